package io.berth.activities.routing;

import io.berth.activities.Addresses;

/**
 * The address Nginx listens on for workspace traffic. {@code host} is an IP literal, or {@code *}
 * for every address.
 */
public record Gateway(String host, int port) {
  public Gateway {
    if (!("*".equals(host) || Addresses.ipLiteral(host)) || !Addresses.port(port)) {
      throw new IllegalArgumentException("gateway must be <ip>:<port>, [<ipv6>]:<port>, *:<port> or <port>");
    }
  }

  /** Parses {@code 127.0.0.1:8088}, {@code [::1]:8088}, {@code *:8088} or {@code 8088}. */
  public static Gateway parse(String listen) {
    if (listen == null) {
      throw new IllegalArgumentException("gateway address missing");
    }
    int colon = listen.lastIndexOf(':');
    String host = colon < 0 ? "*" : listen.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String port = listen.substring(colon + 1);
    if (!port.matches("\\d{1,5}")) {
      throw new IllegalArgumentException("gateway port must be a number");
    }
    return new Gateway(host, Integer.parseInt(port));
  }

  /** The value of an Nginx {@code listen} directive. */
  public String listen() {
    return "*".equals(host) ? String.valueOf(port) : Addresses.forUrl(host) + ":" + port;
  }

  /** Where a local client connects to reach this gateway. */
  public String connectHost() {
    return switch (host) {
      case "*", "0.0.0.0" -> "127.0.0.1";
      case "::" -> "::1";
      default -> host;
    };
  }
}
