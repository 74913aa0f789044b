package io.berth.workflows;

import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One user's workspace, id {@code workspace-<user>}: the allocation saga, the active loop whose
 * idle timer heartbeats reset, and the teardown. Started by the API with Update-With-Start
 * ({@link #allocate}, conflict policy USE_EXISTING).
 */
@WorkflowInterface
public interface WorkspaceWorkflow {
  String ID_PREFIX = "workspace-";

  static String idFor(String user) {
    return ID_PREFIX + user;
  }

  @WorkflowMethod
  WorkspaceView run(WorkspaceParams params);

  /** Waits (bounded by the params' allocate wait) until the workspace is READY or failed, then returns it. */
  @UpdateMethod
  WorkspaceView allocate(AllocateRequest request);

  /**
   * Activity from the workspace, re-arming the idle timer from when the signal is handled. Kept for
   * senders and histories from before {@link #beat}.
   */
  @SignalMethod
  void heartbeat();

  /**
   * Activity from the workspace at {@code atMillis} (epoch ms, the API's clock when the beat
   * arrived): idle deadline = min(max(deadline, atMillis + idle timeout), expiry). The API sends
   * at most one per coalescing window.
   */
  @SignalMethod
  void beat(long atMillis);

  /** Pushes the idle deadline to now + seconds (bounded by max lifetime). */
  @UpdateMethod
  WorkspaceView extend(long seconds);

  @SignalMethod
  void release(String reason);

  /** From the capacity workflow: the pool has spares again (cold path waiters retry their claim). */
  @SignalMethod
  void spareAvailable();

  /** From the capacity workflow: the fleet is at its maximum and no queue is kept; give up now. */
  @SignalMethod
  void noCapacity(String reason);

  /**
   * From the capacity workflow: the fleet says this user owns a slot but Redis has no session (Redis
   * lost its data): a READY workspace writes its session again, with a fresh heartbeat token.
   */
  @SignalMethod
  void resync();

  @QueryMethod
  WorkspaceView view();
}
