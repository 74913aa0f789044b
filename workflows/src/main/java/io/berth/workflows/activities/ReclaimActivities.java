package io.berth.workflows.activities;

import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.temporal.activity.ActivityInterface;

/**
 * Armed idle reclaim: the data plane enforces the idle deadline itself, on time, however many
 * workspaces expire together (the workflow arms it a lead time ahead; see ARCHITECTURE.md).
 */
@ActivityInterface
public interface ReclaimActivities {
  /**
   * Waits (holding no worker thread) until the request's deadline, then in one atomic step reads
   * the workspace's last activity and extend hold and, only if it is still idle, removes its route
   * (only a route of this request). Past the deadline already (a retry on another worker), it
   * checks at once. Idempotent: once reclaimed, every later call answers reclaimed.
   */
  ReclaimOutcome reclaimAt(ReclaimRequest request);

  /**
   * Records an extended idle deadline where {@link #reclaimAt} sees it (never lowers one). False
   * when the request's workspace was already reclaimed: the extend came too late.
   */
  boolean holdUntil(String requestId, long deadlineMillis);
}
