package io.berth.api.workspaces;

import io.berth.api.metrics.AllocationMetrics;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import jakarta.inject.Singleton;

/**
 * Starting a workspace on a user's behalf, as {@code POST /api/workspaces} and the wake page both do:
 * a new one is first counted against the allocation quota, the active cap and the per-user limit;
 * the call is timed for the metrics; a FAILED run gives its reserved place back.
 */
@Singleton
public class Allocations {
  private final WorkspaceWorkflows workflows;
  private final UserQuotas quotas;
  private final ActiveCap activeCap;
  private final WorkspaceLimit limit;
  private final AllocationMetrics metrics;

  public Allocations(WorkspaceWorkflows workflows, UserQuotas quotas, ActiveCap activeCap, WorkspaceLimit limit,
                     AllocationMetrics metrics) {
    this.workflows = workflows;
    this.quotas = quotas;
    this.activeCap = activeCap;
    this.limit = limit;
    this.metrics = metrics;
  }

  /** Counts a new workspace of {@code user} under {@code key}: 429 or 503 with Retry-After when it may not start. */
  public void admit(String user, String key) {
    quotas.take(UserQuotas.Kind.ALLOCATE, user);
    activeCap.check(key);
    limit.reserve(key);
  }

  /** Allocates (or reaches the run on its way) within the allocate wait. */
  public WorkspaceView allocate(String key, String template) {
    AllocationMetrics.Call timed = metrics.start();
    WorkspaceView view;
    try {
      view = workflows.allocate(key, template, () -> limit.reserve(key));
    } catch (RuntimeException e) {
      timed.error();
      throw e;
    }
    timed.done(view);
    if (view.state() == WorkspaceState.FAILED) {
      limit.releasePending(key);
    }
    return view;
  }
}
