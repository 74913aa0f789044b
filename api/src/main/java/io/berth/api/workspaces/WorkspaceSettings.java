package io.berth.api.workspaces;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Context;
import java.time.Duration;
import java.util.List;

/**
 * How the API shapes workspaces ({@code berth.workspace.*}); application.yml maps each to a
 * {@code BERTH_*} environment variable.
 *
 * @param publicUrl        URL template; {@code {label}} and {@code {domain}} are replaced; blank means
 *                         {@value #DEFAULT_PUBLIC_URL}
 * @param templates        allow-list of templates a caller may ask for; empty means just {@code template}
 * @param heartbeatWindow  one heartbeat signal per user per window; zero means idle-timeout / 10, at most 30 s
 * @param allocateRate     allocations per user, {@code <n>/<s|min|h>}; {@code off} disables the quota
 * @param extendRate       extends per user, same form
 * @param launchRate       launch links per user, same form
 * @param perUser          live workspaces a user may have at once (their default one and named
 *                         ones); null means 1, the default workspace only
 * @param reclaimLead      how long before an idle deadline the workflow arms the reclaim that enforces it on time;
 *                         zero or unset means min(idle / 3, 30 s), at least 2 s when the idle timeout allows
 */
@Context // checked at startup, not at the first request
@ConfigurationProperties("berth.workspace")
public record WorkspaceSettings(Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                                Duration allocateWait, String template, List<String> templates, String domain,
                                String publicUrl, Duration heartbeatWindow, String allocateRate, String extendRate,
                                String launchRate, Integer perUser, Duration reclaimLead) {
  public static final String DEFAULT_PUBLIC_URL = "http://{label}.{domain}:8088/";
  /** A template's name, configured or asked for: lower-case words, nothing a path or a URL would read. */
  public static final String TEMPLATE_NAME = "[a-z0-9][a-z0-9-]{0,31}";
  private static final Duration MAX_WINDOW = Duration.ofSeconds(30);

  public WorkspaceSettings {
    requirePositive("idle-timeout", idleTimeout);
    requirePositive("max-lifetime", maxLifetime);
    requirePositive("cold-start-timeout", coldStartTimeout);
    requirePositive("allocate-wait", allocateWait);
    // BERTH_TEMPLATES unset reads as an empty string: the default template alone.
    templates = templates == null ? List.of() : templates.stream().filter(t -> t != null && !t.isBlank()).toList();
    templates = templates.isEmpty() ? List.of(template) : templates;
    for (String t : templates) {
      if (!t.matches(TEMPLATE_NAME)) {
        throw new IllegalStateException("berth.workspace.templates: '" + t + "' is not a template name ("
            + TEMPLATE_NAME + ")");
      }
    }
    if (!templates.contains(template)) {
      throw new IllegalStateException("berth.workspace.template '" + template + "' is not in berth.workspace.templates "
          + templates);
    }
    if (perUser == null) {
      perUser = 1;
    }
    if (perUser < 1) {
      throw new IllegalStateException("berth.workspace.per-user (BERTH_WORKSPACES_PER_USER) must be at least 1, got "
          + perUser);
    }
    if (heartbeatWindow == null || heartbeatWindow.isNegative()) {
      heartbeatWindow = Duration.ZERO;
    }
    AllocateRate.parse(allocateRate, "allocate rate");
    AllocateRate.parse(extendRate, "extend rate");
    AllocateRate.parse(launchRate, "launch rate");
    if (reclaimLead != null && reclaimLead.isNegative()) {
      throw new IllegalStateException("berth.workspace.reclaim-lead must not be negative, got " + reclaimLead);
    }
    if (publicUrl == null || publicUrl.isBlank()) {
      publicUrl = DEFAULT_PUBLIC_URL;
    }
    if (!publicUrl.contains("{label}")) {
      throw new IllegalStateException("berth.workspace.public-url must contain {label}, got " + publicUrl);
    }
  }

  /** The coalescing window: explicit, or a tenth of the idle timeout so that a missed window never costs a workspace. */
  public Duration effectiveHeartbeatWindow() {
    if (!heartbeatWindow.isZero()) {
      return heartbeatWindow;
    }
    Duration tenth = idleTimeout.dividedBy(10);
    Duration floor = Duration.ofMillis(100);
    return tenth.compareTo(MAX_WINDOW) > 0 ? MAX_WINDOW : tenth.compareTo(floor) < 0 ? floor : tenth;
  }

  public String urlFor(String label) {
    return publicUrl.replace("{label}", label).replace("{domain}", domain);
  }

  public String hostnameFor(String label) {
    return label + "." + domain;
  }

  public AllocateRate rate() {
    return AllocateRate.parse(allocateRate);
  }

  public AllocateRate extendQuota() {
    return AllocateRate.parse(extendRate, "extend rate");
  }

  public AllocateRate launchQuota() {
    return AllocateRate.parse(launchRate, "launch rate");
  }

  /** Workspace cookies get the Secure attribute when users reach workspaces over https. */
  public boolean httpsWorkspaces() {
    return publicUrl.regionMatches(true, 0, "https:", 0, 6);
  }

  private static void requirePositive(String name, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalStateException("berth.workspace." + name + " must be a positive duration, got " + d);
    }
  }
}
