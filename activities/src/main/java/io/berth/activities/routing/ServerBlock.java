package io.berth.activities.routing;

import io.berth.activities.Addresses;

/**
 * The Nginx server block of one workspace route. Every value that reaches it has been validated
 * by {@link NginxRoutes} (a DNS label, a DNS name, an IP literal or DNS name, a port number), so
 * none can carry a quote, semicolon, brace, space or newline.
 */
final class ServerBlock {
  /** Answered by Nginx itself, so a route can be confirmed while the workspace is still starting. */
  static final String CHECK_PATH = "/.berth/route";
  static final String ROUTE_HEADER = "X-Berth-Route";

  private ServerBlock() {}

  static String render(Gateway gateway, String label, String hostname, String upstreamHost, int upstreamPort) {
    return render(gateway, label, hostname, upstreamHost, upstreamPort, UpstreamHost.CLIENT);
  }

  /** {@code hostHeader}: what the workspace sees as Host (X-Forwarded-Host keeps the browser's, with its port). */
  static String render(Gateway gateway, String label, String hostname, String upstreamHost, int upstreamPort,
                       UpstreamHost hostHeader) {
    return """
        # Written by Berth for workspace %2$s; replaced on the next route, removed on unroute.
        server {
            listen %1$s;
            server_name %3$s;

            location = %6$s {
                add_header %7$s %2$s always;
                return 204;
            }

            location / {
                proxy_pass http://%4$s:%5$d;
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection $berth_connection_upgrade;
                proxy_set_header Host %8$s;
                proxy_set_header X-Real-IP $remote_addr;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_set_header X-Forwarded-Host $http_host;
                proxy_connect_timeout 10s;
                proxy_read_timeout 1h;
                proxy_send_timeout 1h;
                proxy_buffering off;
                client_max_body_size 100m;
                add_header %7$s %2$s always;
            }
        }
        """.formatted(gateway.listen(), label, hostname, Addresses.forUrl(upstreamHost), upstreamPort, CHECK_PATH,
        ROUTE_HEADER, hostHeader.nginxValue());
  }
}
