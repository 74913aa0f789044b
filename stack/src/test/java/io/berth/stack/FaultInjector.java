package io.berth.stack;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.berth.workflows.WorkspaceWorkflow;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Fails a named activity of one user's workspace workflow at the activity boundary, the way its outside system
 * would (a non-retryable rejection, or a connection error that retries and then compensates).
 */
final class FaultInjector extends WorkerInterceptorBase {
  private final Map<String, Supplier<RuntimeException>> faults = new ConcurrentHashMap<>();

  /** {@code activityType} as Temporal names it (e.g. "TagOwner"), in {@code user}'s workspace workflow. */
  void fail(String activityType, String user, Supplier<RuntimeException> error) {
    faults.put(activityType + "|" + WorkspaceWorkflow.idFor(user), error);
  }

  void clear() {
    faults.clear();
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      private ActivityExecutionContext context;

      @Override
      public void init(ActivityExecutionContext context) {
        this.context = context;
        super.init(context);
      }

      @Override
      public ActivityOutput execute(ActivityInput input) {
        String type = context.getInfo().getActivityType();
        Supplier<RuntimeException> fault = faults.get(type + "|" + context.getInfo().getWorkflowId());
        if (fault != null) {
          throw fault.get();
        }
        return super.execute(input);
      }
    };
  }
}
