package io.berth.api.access;

import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.workflows.Labels;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * Who may wake a workspace address (see docs/ACCESS.md, "Wake on visit"): a browser on the
 * workspace's own origin that holds the {@value AccessCookies#NAME} cookie minted for this host
 * (the gone page's owner recognition, checked without Redis: the workspace is gone). Every check
 * runs before anything is counted or started, so a refused request writes nothing.
 */
@Singleton
public class WakeRequests {
  /** The owner as the cookie shows them: the workspace key, its label and when the cookie ends. */
  public record Owner(String key, String label, long cookieExpiresAtSeconds) {}

  private final WorkspaceAccess access;
  private final AccessCookies cookies;
  private final WorkspaceSettings settings;

  public WakeRequests(WorkspaceAccess access, AccessCookies cookies, WorkspaceSettings settings) {
    this.access = access;
    this.cookies = cookies;
    this.settings = settings;
  }

  /**
   * The owner of this host, or an {@link ApiException}: 404 for a host that is no workspace
   * address, 403 for a request from another origin, 401 without any workspace cookie, 403 with
   * cookies that are not this host's owner's (another user's, forged, expired).
   */
  public Owner owner(@Nullable String host, @Nullable String cookieHeader, @Nullable String origin,
                     @Nullable String fetchSite) {
    String label = label(host);
    if (!sameOrigin(label, origin, fetchSite)) {
      throw ApiException.forbidden("a workspace is woken only from its own address");
    }
    return ownerOf(label, cookieHeader);
  }

  /**
   * As {@link #owner} for a read (a same-origin GET carries no Origin): only a {@code
   * Sec-Fetch-Site} that names another site is refused.
   */
  public Owner reader(@Nullable String host, @Nullable String cookieHeader, @Nullable String fetchSite) {
    String label = label(host);
    if (fetchSite != null && !fetchSite.trim().equalsIgnoreCase("same-origin")) {
      throw ApiException.forbidden("a workspace is followed only from its own address");
    }
    return ownerOf(label, cookieHeader);
  }

  private String label(@Nullable String host) {
    String label = access.labelOf(host);
    if (label == null || !cookies.enabled()) {
      throw ApiException.notFound("no workspace at this address");
    }
    return label;
  }

  private Owner ownerOf(String label, @Nullable String cookieHeader) {
    if (AccessCookies.values(cookieHeader).isEmpty()) {
      throw ApiException.unauthorized("sign in to open this workspace");
    }
    long now = System.currentTimeMillis() / 1000;
    Owner best = null;
    for (String value : AccessCookies.values(cookieHeader)) {
      Optional<AccessCookies.Grant> g = cookies.read(value, now);
      if (g.isPresent() && g.get().label().equals(label) && label.equals(Labels.labelFor(g.get().user()))
          && (best == null || g.get().expiresAtSeconds() > best.cookieExpiresAtSeconds())) {
        best = new Owner(g.get().user(), label, g.get().expiresAtSeconds());
      }
    }
    if (best == null) {
      throw ApiException.forbidden("this browser holds no cookie of this workspace's owner");
    }
    return best;
  }

  /**
   * The request comes from a page of this very host: {@code Sec-Fetch-Site}, when sent, says
   * same-origin, and {@code Origin}, when sent, names this host. One of them must be there (a
   * browser sends Origin with every POST). Another workspace's page is same-site (the SameSite
   * cookie goes along), so only the origin tells it apart.
   */
  boolean sameOrigin(String label, @Nullable String origin, @Nullable String fetchSite) {
    if (fetchSite != null && !fetchSite.trim().equalsIgnoreCase("same-origin")) {
      return false;
    }
    if (origin == null) {
      return fetchSite != null;
    }
    try {
      URI u = URI.create(origin.trim());
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      return (scheme.equals("http") || scheme.equals("https")) && u.getHost() != null
          && u.getHost().toLowerCase(Locale.ROOT).equals(settings.hostnameFor(label))
          && (u.getRawPath() == null || u.getRawPath().isEmpty());
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
