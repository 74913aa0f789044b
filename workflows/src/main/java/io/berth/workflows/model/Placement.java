package io.berth.workflows.model;

/**
 * Where a workspace's placement steps (probe, tag, protect, DNS, route) run, chosen when the
 * workflow starts and carried in its input, so that replaying a run never depends on a setting.
 */
public enum Placement {
  /**
   * As local activities inside the workflow task that claimed the slot: a warm allocation is one
   * workflow task from claim to session. For a fleet whose steps are milliseconds of local work
   * (the local fleet, no DNS) on a worker with a workflow cache: without one, each task is a fresh
   * replay that starts a still running local activity over again.
   */
  IN_TASK,
  /** As regular activities, retried apart from the workflow task: cloud calls, slow and throttled. */
  ACTIVITIES
}
