package io.berth.activities.routing;

import io.berth.activities.Addresses;
import io.berth.workflows.GatewayToken;

/**
 * Dynamic routing ({@code BERTH_ROUTING=dynamic}): one server block in the main config answers
 * every {@code <label>.<domain>}, and the API says per request where it goes. Nothing is written
 * and nothing reloads when a workspace is routed: the route is a Redis record
 * ({@link RedisRoutes}), and every request passes {@code auth_request} to the API, which answers
 * 204 with {@value #UPSTREAM_HEADER} ({@code <ip>:<port>}) and {@value ServerBlock#ROUTE_HEADER},
 * 401 (route there, no valid cookie: to the login page) or 403 (no route: the 404 every unknown
 * host gets).
 *
 * <p>Every value that reaches the block is checked first: the domain is a lowercase DNS name
 * (its dots are escaped for the regex), the API base and login URL are rebuilt from checked parts
 * ({@link WorkspaceAuth#checkedUrl}). The upstream comes from the API at request time and must be
 * an IP literal: there is no resolver.
 *
 * @param domain       workspaces live at {@code <label>.<domain>}
 * @param apiBase      where Nginx asks the API, {@code http(s)://host[:port]}
 * @param auth         cookie: the owner's cookie is checked too; none: only the route
 * @param upstreamHost the Host header sent to workspaces
 */
public record WildcardServer(String domain, String apiBase, WorkspaceAuth auth, UpstreamHost upstreamHost) {
  /** The API's answer to the auth subrequest: where the request goes. */
  public static final String UPSTREAM_HEADER = "X-Berth-Upstream";
  /** Sent with the auth subrequest: the answer must come from the route record (403 without one). */
  public static final String ROUTING_HEADER = "X-Berth-Routing";
  public static final String API_ROUTE_PATH = "/api/gateway/route";
  /**
   * Where a request for a host without a route goes: the API answers its owner with a page that
   * says what became of the workspace, a browser without a cookie with the way to sign in, and
   * any other client with the JSON 404.
   */
  public static final String API_GONE_PATH = "/api/gateway/gone";
  /**
   * The original request's method, on the auth subrequest (Nginx sends every subrequest as GET):
   * the API counts a request as the workspace's activity by it (see docs/TEMPLATES.md).
   */
  public static final String METHOD_HEADER = "X-Berth-Method";
  /** The sign-in page (BERTH_DASHBOARD_URL), on the gone request: the API's page links to it. */
  public static final String LOGIN_HEADER = "X-Berth-Login";
  /**
   * The wake page's calls (cookie auth): {@code POST /.berth/wake} starts the owner's workspace,
   * {@code GET /.berth/wake/status} follows it, {@code POST /.berth/wake/enter} sets its cookie.
   * The API checks the owner's cookie and the origin (see docs/ACCESS.md).
   */
  public static final String WAKE_PATH = "/.berth/wake";
  public static final String API_WAKE_PATH = "/api/gateway/wake";
  /** The wake POST waits for the allocation (the API's allocate wait, plus a second): room for a long one. */
  static final java.time.Duration WAKE_READ_TIMEOUT = java.time.Duration.ofSeconds(120);
  /** The label regex of {@code io.berth.workflows.Labels#LABEL}, captured as {@code $berth_label}. */
  static final String LABEL_CAPTURE = "(?<berth_label>[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)";

  public WildcardServer {
    if (!Addresses.domainName(domain)) {
      throw new IllegalArgumentException("domain must be a lowercase DNS name, got '" + domain + "'");
    }
    apiBase = WorkspaceAuth.checkedUrl("API URL", apiBase, false);
    if (auth == null || upstreamHost == null) {
      throw new IllegalArgumentException("wildcard server needs the access mode and the upstream Host");
    }
  }

  /** The quoted regex server name: {@code <label>.<domain>} with the label captured. */
  String serverName() {
    return "\"~^" + LABEL_CAPTURE + "\\." + domain.replace(".", "\\.") + "$\"";
  }

  /** The API as an upstream that keeps idle connections: every workspace request asks it. */
  private static final String API_UPSTREAM = "berth_api";

  /** The upstream block of the API and the server block, for the http block of the main config. */
  String render(Gateway gateway) {
    return """
        # Every workspace request asks the API: idle connections are kept, not one connect per request.
        upstream %15$s {
            server %16$s;
            keepalive 16;
        }

        # Dynamic routing: every <label>.%2$s, routed per request from the API's answer (no reloads).
        server {
            listen %1$s;
            server_name %3$s;
            default_type application/json;

            location = %4$s {
                proxy_pass %5$s%6$s;
                %7$s
                proxy_intercept_errors on;
                error_page 404 = @berth_not_found;
            }
        %8$s
            location = %9$s {
                internal;
                proxy_pass %5$s%10$s;
                %7$s
                proxy_set_header %11$s dynamic;
                proxy_set_header %17$s $request_method;
            }

            location @berth_not_found {
                return 404 '%12$s';
            }

            location @berth_gone {
                rewrite ^ %18$s? break;
                proxy_pass %5$s;
                proxy_method GET;
                %7$s
                proxy_set_header %19$s "%20$s";
            }

            location / {
                auth_request %9$s;
                auth_request_set $berth_upstream $upstream_http_x_berth_upstream;
                auth_request_set $berth_route $upstream_http_x_berth_route;
                error_page 401 = @berth_login;
                error_page 403 = @berth_gone;
                %13$s
                add_header %14$s $berth_route always;
            }
        }
        """.formatted(gateway.listen(), domain, serverName(), ServerBlock.CHECK_PATH, apiUrl(), API_ROUTE_PATH,
        SUBREQUEST, cookieLocations(), WorkspaceAuth.AUTH_PATH, WorkspaceAuth.API_AUTH_PATH, ROUTING_HEADER,
        NginxProcess.NOT_FOUND_BODY, ServerBlock.proxyDirectives("$berth_upstream", upstreamHost),
        ServerBlock.ROUTE_HEADER, API_UPSTREAM, apiAddress(), METHOD_HEADER, API_GONE_PATH, LOGIN_HEADER,
        auth.enabled() ? auth.loginUrl() : "");
  }

  /** {@code http(s)://berth_api}: the API base's scheme, the upstream block for its address. */
  private String apiUrl() {
    return apiBase.substring(0, apiBase.indexOf("://") + 3) + API_UPSTREAM;
  }

  /** The API base's {@code host:port} (its scheme's port when it names none), from checked parts. */
  String apiAddress() {
    String hostPort = apiBase.substring(apiBase.indexOf("://") + 3);
    if (hostPort.matches(".*:\\d{1,5}")) {
      return hostPort;
    }
    return hostPort + (apiBase.startsWith("https:") ? ":443" : ":80");
  }

  /** What every request to the API carries: no body, the browser's Host, a kept connection, short timeouts. */
  private static final String SUBREQUEST = """
      proxy_pass_request_body off;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Content-Length "";
              proxy_set_header Host $host;
              proxy_connect_timeout 5s;
              proxy_read_timeout 10s;
              """ + "        " + GatewayToken.NGINX_DIRECTIVE;

  /**
   * Cookie mode: the launch link (the API sets the cookie), the wake page's calls and the redirect
   * of a request without a valid cookie to the login page. Without cookie auth, no request is answered 401, and
   * {@code /.berth/launch} is a path of the workspace like any other.
   */
  private String cookieLocations() {
    if (!auth.enabled()) {
      return "";
    }
    return """

            location = %1$s {
                proxy_pass %2$s%3$s;
                proxy_pass_request_body off;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_set_header Content-Length "";
                proxy_set_header Host $host;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_connect_timeout 5s;
                proxy_read_timeout 15s;
                %6$s
                add_header %5$s $berth_label always;
            }

            location ~ ^%7$s(?<berth_wake>/status|/enter)?$ {
                proxy_pass %2$s%8$s$berth_wake;
                proxy_pass_request_body off;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_set_header Content-Length "";
                proxy_set_header Host $host;
                proxy_connect_timeout 5s;
                proxy_read_timeout %9$ds;
                %6$s
            }

            location @berth_login {
                add_header %5$s $berth_route always;
                add_header Cache-Control no-store always;
                return 302 %4$s?ws=$berth_label;
            }
        """.formatted(WorkspaceAuth.LAUNCH_PATH, apiUrl(), WorkspaceAuth.API_LAUNCH_PATH, auth.loginUrl(),
        ServerBlock.ROUTE_HEADER, GatewayToken.NGINX_DIRECTIVE, WAKE_PATH.replace(".", "\\."), API_WAKE_PATH,
        WAKE_READ_TIMEOUT.toSeconds());
  }
}
