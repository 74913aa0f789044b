package io.berth.stack.bench;

import io.berth.workflows.activities.RouteActivities;
import io.berth.workflows.model.RouteSpec;
import java.util.List;

/** BENCH-ONLY test double for the {@code memory} scenario: routes that succeed without Nginx. */
final class NullRoutes implements RouteActivities {
  @Override
  public void routeWorkspace(RouteSpec route) {
  }

  @Override
  public void unrouteWorkspace(RouteSpec route) {
  }

  @Override
  public List<String> routedLabels() {
    return List.of();
  }
}
