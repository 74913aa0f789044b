package io.berth.api.workspaces;

import io.berth.workflows.model.Placement;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Context;

/**
 * Where the workspaces this API starts run their placement steps ({@code berth.placement.*}): the
 * choice goes into each workflow's input, so a worker replays every run the way it started.
 *
 * @param mode          {@code in-task}, {@code activities}, or blank: in the workflow task for the
 *                      local fleet on a worker with a workflow cache, as regular activities otherwise
 * @param provider      the worker's fleet ({@code BERTH_PROVIDER}: {@code local} or {@code aws})
 * @param workflowCache the worker's sticky workflow cache ({@code BERTH_WORKFLOW_CACHE}); 0 turns it off
 */
@Context // checked at startup, not at the first allocation
@ConfigurationProperties("berth.placement")
public record PlacementSettings(String mode, String provider, Integer workflowCache) {
  public PlacementSettings {
    placementOf(mode, provider, workflowCache);
  }

  public Placement placement() {
    return placementOf(mode, provider, workflowCache);
  }

  private static Placement placementOf(String mode, String provider, Integer workflowCache) {
    if (mode == null || mode.isBlank()) {
      boolean local = provider == null || provider.isBlank() || provider.equals("local");
      return local && (workflowCache == null || workflowCache > 0) ? Placement.IN_TASK : Placement.ACTIVITIES;
    }
    return switch (mode.trim()) {
      case "in-task" -> Placement.IN_TASK;
      case "activities" -> Placement.ACTIVITIES;
      default -> throw new IllegalStateException(
          "berth.placement.mode (BERTH_PLACEMENT) must be in-task, activities or empty, got " + mode);
    };
  }
}
