package io.berth.activities.routing;

import io.berth.workflows.activities.RouteActivities;

/**
 * The route step as the worker holds it, whichever way routes are kept: route files and reloads
 * ({@link NginxRoutes}) or Redis records read per request ({@link RedisRoutes}).
 */
public interface GatewayRoutes extends RouteActivities, AutoCloseable {
  /** For /health and metrics. */
  RoutingHealth health();

  @Override
  void close();
}
