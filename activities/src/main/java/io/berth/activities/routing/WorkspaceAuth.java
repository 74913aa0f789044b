package io.berth.activities.routing;

import io.berth.activities.Addresses;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Who gets past the gateway into a workspace.
 *
 * <p>{@link Mode#NONE}: anyone who knows (or guesses) a workspace's URL reaches it.
 *
 * <p>{@link Mode#COOKIE} (the default): every request to a workspace is first checked by the API
 * through Nginx's {@code auth_request}; the API answers 204 only for a request that carries the
 * workspace cookie minted for that very host and workspace. The cookie is set by the API when the
 * owner opens a one-time launch link ({@code /.berth/launch?t=...}) on the workspace's host, which
 * Nginx passes to the API. A request without a valid cookie is redirected to {@link #loginUrl()}.
 *
 * <p>Both addresses reach an Nginx config, so both are parsed and rebuilt from validated parts
 * (scheme, IP literal or DNS name, port, plain path): no quote, space, semicolon, brace or
 * {@code $} can pass.
 *
 * @param apiBase  where Nginx reaches the API, {@code http(s)://host:port} (COOKIE only)
 * @param loginUrl where a browser without a valid cookie is sent; {@code ?ws=<label>} is appended (COOKIE only)
 */
public record WorkspaceAuth(Mode mode, String apiBase, String loginUrl) {
  public enum Mode { NONE, COOKIE }

  /** On the workspace host: redeems a launch ticket (proxied to the API). */
  public static final String LAUNCH_PATH = "/.berth/launch";
  /** On the workspace host, internal: the auth_request subrequest (proxied to the API). */
  public static final String AUTH_PATH = "/.berth/auth";
  /** The API's side of the two paths above. */
  public static final String API_LAUNCH_PATH = "/api/gateway/launch";
  public static final String API_AUTH_PATH = "/api/gateway/auth";

  private static final Pattern PLAIN_PATH = Pattern.compile("(/[A-Za-z0-9._~-]*)*");

  public WorkspaceAuth {
    if (mode == null) {
      throw new IllegalArgumentException("workspace auth mode missing");
    }
    if (mode == Mode.COOKIE && (apiBase == null || loginUrl == null)) {
      throw new IllegalArgumentException("cookie auth needs the API address and the login URL");
    }
  }

  public static WorkspaceAuth none() {
    return new WorkspaceAuth(Mode.NONE, null, null);
  }

  /**
   * @param apiUrl   {@code http(s)://host[:port]}, no path (BERTH_API_URL)
   * @param loginUrl {@code http(s)://host[:port][/path]} (BERTH_DASHBOARD_URL)
   */
  public static WorkspaceAuth cookie(String apiUrl, String loginUrl) {
    return new WorkspaceAuth(Mode.COOKIE, checkedUrl("API URL", apiUrl, false), checkedUrl("login URL", loginUrl, true));
  }

  /** {@code mode}: {@code cookie} or {@code none} (BERTH_WORKSPACE_AUTH). */
  public static WorkspaceAuth fromConfig(String mode, String apiUrl, String loginUrl) {
    String m = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
    return switch (m) {
      case "", "cookie" -> cookie(apiUrl, loginUrl);
      case "none" -> none();
      default -> throw new IllegalArgumentException("workspace auth must be cookie or none, got '" + mode + "'");
    };
  }

  public boolean enabled() {
    return mode == Mode.COOKIE;
  }

  /**
   * Parses {@code url} and rebuilds it from checked parts: scheme http or https, a host that is an
   * IP literal or a DNS name, an optional port, and (when {@code pathAllowed}) a plain path.
   */
  static String checkedUrl(String what, String url, boolean pathAllowed) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(what + " missing");
    }
    URI u;
    try {
      u = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(what + " is not a URL: " + e.getMessage());
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(what + " must be http:// or https://");
    }
    if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
      throw new IllegalArgumentException(what + " must not carry user info, a query or a fragment");
    }
    String host = u.getHost();
    if (host != null && host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host == null || !Addresses.host(host.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException(what + " must name an IP address or a DNS name");
    }
    host = host.toLowerCase(Locale.ROOT);
    int port = u.getPort();
    if (port != -1 && !Addresses.port(port)) {
      throw new IllegalArgumentException(what + " port must be 1..65535");
    }
    String path = u.getRawPath() == null ? "" : u.getRawPath();
    if (!PLAIN_PATH.matcher(path).matches()) {
      throw new IllegalArgumentException(what + " path may hold only letters, digits and / . _ ~ -");
    }
    if (!pathAllowed && !path.isEmpty() && !path.equals("/")) {
      throw new IllegalArgumentException(what + " must not have a path");
    }
    String base = scheme + "://" + Addresses.forUrl(host) + (port == -1 ? "" : ":" + port);
    return pathAllowed ? base + (path.isEmpty() ? "/" : path) : base;
  }
}
