package io.berth.stack;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Fails a named activity for one user at the activity boundary, the way its outside system
 * would (a non-retryable rejection, or a connection error that retries and then compensates).
 */
final class FaultInjector extends WorkerInterceptorBase {
  private final Map<String, Supplier<RuntimeException>> faults = new ConcurrentHashMap<>();

  /** {@code activityType} as Temporal names it (e.g. "TagOwner"); matches calls whose arguments mention {@code user}. */
  void fail(String activityType, String user, Supplier<RuntimeException> error) {
    faults.put(activityType + "|" + user, error);
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
        String args = Arrays.deepToString(input.getArguments());
        for (Map.Entry<String, Supplier<RuntimeException>> f : faults.entrySet()) {
          String[] k = f.getKey().split("\\|", 2);
          if (k[0].equals(type) && args.contains("user=" + k[1] + ",")) {
            throw f.getValue().get();
          }
          if (k[0].equals(type) && args.contains(", " + k[1] + "]")) {
            throw f.getValue().get();
          }
        }
        return super.execute(input);
      }
    };
  }
}
