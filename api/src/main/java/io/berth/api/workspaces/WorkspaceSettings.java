package io.berth.api.workspaces;

import io.berth.workflows.pools.Pools;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Context;
import io.micronaut.core.annotation.Creator;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How the API shapes workspaces ({@code berth.workspace.*}); application.yml maps each to a
 * {@code BERTH_*} environment variable.
 *
 * @param publicUrl        URL template; {@code {label}} and {@code {domain}} are replaced; blank means
 *                         {@value #DEFAULT_PUBLIC_URL}
 * @param template         the default template ({@code BERTH_TEMPLATE}); null means the templates file's
 *                         {@code default}, else {@code demo}
 * @param templates        without a templates file, the templates offered beside the default one
 *                         ({@code BERTH_TEMPLATES}); empty means just {@code template}
 * @param heartbeatWindow  one heartbeat signal per user per window; zero means idle-timeout / 10, at most 30 s
 * @param allocateRate     allocations per user, {@code <n>/<s|min|h>}; {@code off} disables the quota
 * @param extendRate       extends per user, same form
 * @param launchRate       launch links per user, same form
 * @param perUser          live workspaces a user may have at once (their default one and named
 *                         ones); null means 1, the default workspace only
 * @param reclaimLead      how long before an idle deadline the workflow arms the reclaim that enforces it on time;
 *                         zero or unset means min(idle / 3, 30 s), at least 2 s when the idle timeout allows
 * @param templatesFile    the templates file ({@code BERTH_TEMPLATES_FILE}), read by {@link TemplatePools} as the
 *                         worker reads it; null means the templates above
 */
@Context // checked at startup, not at the first request
@ConfigurationProperties("berth.workspace")
public record WorkspaceSettings(Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                                Duration allocateWait, String template, List<String> templates, String domain,
                                String publicUrl, Duration heartbeatWindow, String allocateRate, String extendRate,
                                String launchRate, Integer perUser, Duration reclaimLead, String templatesFile) {
  public static final String DEFAULT_PUBLIC_URL = "http://{label}.{domain}:8088/";
  /** A template's name, configured or asked for: lower-case words, nothing a path or a URL would read. */
  public static final String TEMPLATE_NAME = Pools.NAME;
  private static final Duration MAX_WINDOW = Duration.ofSeconds(30);

  @Creator
  public WorkspaceSettings {
    requirePositive("idle-timeout", idleTimeout);
    requirePositive("max-lifetime", maxLifetime);
    requirePositive("cold-start-timeout", coldStartTimeout);
    requirePositive("allocate-wait", allocateWait);
    // BERTH_TEMPLATE, BERTH_TEMPLATES and BERTH_TEMPLATES_FILE unset read as empty strings.
    template = blankToNull(template);
    templatesFile = blankToNull(templatesFile);
    templates = templates == null ? List.of() : templates.stream().filter(t -> t != null && !t.isBlank()).toList();
    templates = templates.isEmpty() && template != null ? List.of(template) : templates;
    for (String t : templates) {
      if (!t.matches(TEMPLATE_NAME)) {
        throw new IllegalStateException("berth.workspace.templates: '" + t + "' is not a template name ("
            + TEMPLATE_NAME + ")");
      }
    }
    if (template != null && templatesFile == null && !templates.contains(template)) {
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

  /** Without a templates file: the settings of before it existed. */
  public WorkspaceSettings(Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout, Duration allocateWait,
                           String template, List<String> templates, String domain, String publicUrl,
                           Duration heartbeatWindow, String allocateRate, String extendRate, String launchRate,
                           Integer perUser, Duration reclaimLead) {
    this(idleTimeout, maxLifetime, coldStartTimeout, allocateWait, template, templates, domain, publicUrl,
        heartbeatWindow, allocateRate, extendRate, launchRate, perUser, reclaimLead, null);
  }

  /**
   * What {@link io.berth.workflows.pools.Pools#fromEnv} reads of these settings, under the worker's
   * variable names; only the ones set, so that the file's own default stands when BERTH_TEMPLATE is unset.
   */
  public Map<String, String> templatesEnv() {
    Map<String, String> env = new HashMap<>();
    if (templatesFile != null) {
      env.put(Pools.FILE, templatesFile);
    }
    if (template != null) {
      env.put("BERTH_TEMPLATE", template);
    }
    env.put("BERTH_TEMPLATES", String.join(",", templates));
    return env;
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

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static void requirePositive(String name, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalStateException("berth.workspace." + name + " must be a positive duration, got " + d);
    }
  }
}
