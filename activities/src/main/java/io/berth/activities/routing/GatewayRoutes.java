package io.berth.activities.routing;

import io.berth.workflows.activities.RouteActivities;

/**
 * The route step as the worker holds it, whichever way routes are kept: route files and reloads
 * ({@link NginxRoutes}) or Redis records read per request ({@link RedisRoutes}).
 */
public interface GatewayRoutes extends RouteActivities, AutoCloseable {
  /** For /health and metrics. */
  RoutingHealth health();

  /** How many routes exist, or -1 when they cannot be listed: health must answer even then. */
  default int routeCount() {
    try {
      return routedLabels().size();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  @Override
  void close();
}
