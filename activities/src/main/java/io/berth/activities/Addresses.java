package io.berth.activities;

import io.berth.workflows.Labels;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Syntax checks for the addresses that reach Nginx configs and URLs: IP literals and DNS names.
 * Nothing here resolves a name; a literal is parsed only after its characters are known safe.
 */
public final class Addresses {
  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-fA-F:.]{2,45}");
  private static final int MAX_NAME_LENGTH = 253;

  private Addresses() {}

  public static boolean ipv4(String s) {
    return s != null && IPV4.matcher(s).matches();
  }

  /** An IPv6 literal without brackets or zone id, e.g. {@code ::1}. */
  public static boolean ipv6(String s) {
    if (s == null || !IPV6_CHARS.matcher(s).matches() || !s.contains(":")) {
      return false;
    }
    try {
      // In brackets InetAddress only parses a literal and never falls back to a DNS lookup.
      return InetAddress.getByName("[" + s + "]") != null;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  public static boolean ipLiteral(String s) {
    return ipv4(s) || ipv6(s);
  }

  /** A lowercase DNS name of valid labels ({@code localhost} counts), at most 253 chars. */
  public static boolean domainName(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_NAME_LENGTH) {
      return false;
    }
    String[] labels = s.split("\\.", -1);
    for (String label : labels) {
      if (!Labels.validLabel(label)) {
        return false;
      }
    }
    // An all-numeric last label would read as (part of) an IP address.
    return !labels[labels.length - 1].chars().allMatch(Character::isDigit);
  }

  /** An IP literal or a DNS name. */
  public static boolean host(String s) {
    return ipLiteral(s) || domainName(s);
  }

  public static boolean port(int port) {
    return port >= 1 && port <= 65535;
  }

  /** {@code host} as it goes into a URL or an Nginx address: IPv6 literals in brackets. */
  public static String forUrl(String host) {
    return ipv6(host) ? "[" + host + "]" : host;
  }

  /** True for loopback literals and {@code localhost}. */
  public static boolean loopback(String s) {
    if ("localhost".equals(s)) {
      return true;
    }
    if (!ipLiteral(s)) {
      return false;
    }
    try {
      return InetAddress.getByName(ipv6(s) ? "[" + s + "]" : s).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
