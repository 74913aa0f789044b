package io.berth.activities.routing;

import java.util.Locale;

/**
 * The {@code Host} header a route sends to its workspace. {@link #CLIENT}: the name the browser
 * asked for ({@code <label>.<domain>}), what most web servers expect behind a proxy.
 * {@link #UPSTREAM}: the workspace's own {@code address:port}, for servers that accept only an IP
 * address or {@code localhost} as Host (Chromium's DevTools; dev servers with an allowed-hosts
 * check). X-Forwarded-Host carries the browser's name either way.
 */
public enum UpstreamHost {
  CLIENT("$host"),
  UPSTREAM("$proxy_host");

  private final String nginxValue;

  UpstreamHost(String nginxValue) {
    this.nginxValue = nginxValue;
  }

  /** The value of {@code proxy_set_header Host}: an Nginx variable, never user input. */
  String nginxValue() {
    return nginxValue;
  }

  /** {@code client} or {@code upstream} (BERTH_UPSTREAM_HOST); blank means {@code dflt}. */
  public static UpstreamHost fromConfig(String value, UpstreamHost dflt) {
    if (value == null || value.isBlank()) {
      return dflt;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "client" -> CLIENT;
      case "upstream" -> UPSTREAM;
      default -> throw new IllegalArgumentException("upstream host must be client or upstream, got '" + value + "'");
    };
  }
}
