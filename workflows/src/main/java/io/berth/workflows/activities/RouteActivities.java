package io.berth.workflows.activities;

import io.berth.workflows.model.RouteSpec;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * Nginx: one file per workspace named by its label, {@code nginx -t} before every reload, the
 * previous file restored when the test fails, reloads serialized.
 */
@ActivityInterface
public interface RouteActivities {
  /** Writes the route and reloads; returns once the route serves. */
  void routeWorkspace(RouteSpec route);

  /** Undo of {@link #routeWorkspace}: removes the file and reloads; tolerates a route that is not there. */
  void unrouteWorkspace(RouteSpec route);

  /** Labels that currently have a route file (orphan detection). */
  List<String> routedLabels();
}
