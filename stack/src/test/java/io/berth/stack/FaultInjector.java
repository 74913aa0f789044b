package io.berth.stack;

import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.berth.workflows.HistorySteps;
import io.berth.workflows.WorkspaceWorkflow;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Fails a named activity of one user's workspace workflow at the activity boundary, the way its outside system
 * would (a non-retryable rejection, or a connection error that retries and then compensates).
 */
final class FaultInjector extends ActivityBoundary {
  private final Map<String, Supplier<RuntimeException>> faults = new ConcurrentHashMap<>();

  /** {@code activityType} as Temporal names it (e.g. "TagOwner") or its step, in {@code user}'s workspace workflow. */
  void fail(String activityType, String user, Supplier<RuntimeException> error) {
    faults.put(activityType + "|" + WorkspaceWorkflow.idFor(user), error);
  }

  void clear() {
    faults.clear();
  }

  @Override
  protected ActivityInboundCallsInterceptor.ActivityOutput around(ActivityInfo info,
      ActivityInboundCallsInterceptor.ActivityInput input, Supplier<ActivityInboundCallsInterceptor.ActivityOutput> proceed) {
    // By step: the session step with the controller's poke is the session step (HistorySteps).
    Supplier<RuntimeException> fault = faults.get(HistorySteps.stepOf(info.getActivityType()) + "|" + info.getWorkflowId());
    if (fault != null) {
      throw fault.get();
    }
    return proceed.get();
  }
}
