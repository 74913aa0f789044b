package io.berth.activities.routing;

import java.util.Locale;

/**
 * How workspace routes reach Nginx ({@code BERTH_ROUTING}). {@link #DYNAMIC} (the default): one
 * wildcard server asks the API per request, a route is a Redis record, nothing reloads.
 * {@link #FILES}: one server file per workspace, {@code nginx -t} and a reload per batch.
 */
public enum RoutingMode {
  DYNAMIC, FILES;

  /** {@code dynamic} or {@code files}; blank means dynamic. */
  public static RoutingMode fromConfig(String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "", "dynamic" -> DYNAMIC;
      case "files" -> FILES;
      default -> throw new IllegalArgumentException("BERTH_ROUTING must be dynamic or files, got '" + value + "'");
    };
  }
}
