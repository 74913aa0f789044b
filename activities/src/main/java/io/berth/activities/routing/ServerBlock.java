package io.berth.activities.routing;

import io.berth.activities.Addresses;
import io.berth.workflows.GatewayToken;

/**
 * The Nginx server block of one workspace route. Every value that reaches it has been validated
 * by {@link NginxRoutes} (a DNS label, a DNS name, an IP literal or DNS name, a port number) or
 * rebuilt from checked parts by {@link WorkspaceAuth}, so none can carry a quote, semicolon,
 * brace, space, {@code $} or newline.
 */
final class ServerBlock {
  /** Answered by Nginx itself, so a route can be confirmed while the workspace is still starting. */
  static final String CHECK_PATH = "/.berth/route";
  static final String ROUTE_HEADER = "X-Berth-Route";
  private static final String LOGIN_LOCATION = "@berth_login";

  private ServerBlock() {}

  static String render(Gateway gateway, String label, String hostname, String upstreamHost, int upstreamPort) {
    return render(gateway, label, hostname, upstreamHost, upstreamPort, WorkspaceAuth.none());
  }

  static String render(Gateway gateway, String label, String hostname, String upstreamHost, int upstreamPort,
                       WorkspaceAuth auth) {
    return render(gateway, label, hostname, upstreamHost, upstreamPort, auth, UpstreamHost.CLIENT);
  }

  /** {@code hostHeader}: what the workspace sees as Host (X-Forwarded-Host keeps the browser's, with its port). */
  static String render(Gateway gateway, String label, String hostname, String upstreamHost, int upstreamPort,
                       WorkspaceAuth auth, UpstreamHost hostHeader) {
    String routeHeader = "add_header " + ROUTE_HEADER + " " + label + " always;";
    StringBuilder b = new StringBuilder();
    b.append("# Written by Berth for workspace ").append(label)
        .append("; replaced on the next route, removed on unroute.\n")
        .append("server {\n")
        .append("    listen ").append(gateway.listen()).append(";\n")
        .append("    server_name ").append(hostname).append(";\n\n")
        .append("    location = ").append(CHECK_PATH).append(" {\n")
        .append("        ").append(routeHeader).append("\n")
        .append("        return 204;\n")
        .append("    }\n\n");
    if (auth.enabled()) {
      b.append(authLocations(label, auth, routeHeader)).append('\n');
    }
    b.append("    location / {\n");
    if (auth.enabled()) {
      b.append("        auth_request ").append(WorkspaceAuth.AUTH_PATH).append(";\n")
          .append("        error_page 401 = ").append(LOGIN_LOCATION).append(";\n");
    }
    b.append("""
                %s
                %s
            }
        }
        """.formatted(proxyDirectives(Addresses.forUrl(upstreamHost) + ":" + upstreamPort, hostHeader), routeHeader));
    return b.toString();
  }

  /**
   * The proxying both kinds of route share, one directive per line at a location's indent:
   * websocket upgrades, the Host the workspace expects, the browser's own host for its redirects,
   * and reads that outlast a long build or a terminal left open.
   */
  static String proxyDirectives(String upstream, UpstreamHost hostHeader) {
    return String.join("\n        ",
        "proxy_pass http://" + upstream + ";",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $berth_connection_upgrade;",
        "proxy_set_header Host " + hostHeader.nginxValue() + ";",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $http_host;",
        "proxy_connect_timeout 10s;",
        "proxy_read_timeout 1h;",
        "proxy_send_timeout 1h;",
        "proxy_buffering off;",
        "client_max_body_size 100m;");
  }

  /**
   * The launch link (proxied to the API, which answers 302 with the host's cookie), the internal
   * auth subrequest (the API answers 204 or 401; Host and Cookie go with it), and the redirect of
   * a request that has no valid cookie to the login page.
   */
  private static String authLocations(String label, WorkspaceAuth auth, String routeHeader) {
    return """
            location = %1$s {
                proxy_pass %3$s%4$s;
                proxy_pass_request_body off;
                proxy_set_header Content-Length "";
                proxy_set_header Host $host;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_connect_timeout 5s;
                proxy_read_timeout 15s;
                %10$s
                %7$s
            }

            location = %2$s {
                internal;
                proxy_pass %3$s%5$s;
                proxy_pass_request_body off;
                proxy_set_header Content-Length "";
                proxy_set_header Host $host;
                proxy_set_header %11$s $request_method;
                proxy_connect_timeout 5s;
                proxy_read_timeout 10s;
                %10$s
            }

            location %8$s {
                %7$s
                add_header Cache-Control no-store always;
                return 302 %6$s?ws=%9$s;
            }
        """.formatted(WorkspaceAuth.LAUNCH_PATH, WorkspaceAuth.AUTH_PATH, auth.apiBase(), WorkspaceAuth.API_LAUNCH_PATH,
        WorkspaceAuth.API_AUTH_PATH, auth.loginUrl(), routeHeader, LOGIN_LOCATION, label, GatewayToken.NGINX_DIRECTIVE,
        WildcardServer.METHOD_HEADER);
  }
}
