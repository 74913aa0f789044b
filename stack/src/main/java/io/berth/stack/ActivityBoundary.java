package io.berth.stack;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.function.Supplier;

/**
 * A worker interceptor that sees every activity execution at the worker, with its info: what the
 * bench times and what the tests fail or hold. Subclasses decide around {@code proceed}.
 */
public abstract class ActivityBoundary extends WorkerInterceptorBase {
  protected abstract ActivityInboundCallsInterceptor.ActivityOutput around(
      ActivityInfo info, ActivityInboundCallsInterceptor.ActivityInput input,
      Supplier<ActivityInboundCallsInterceptor.ActivityOutput> proceed);

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
        return around(context.getInfo(), input, () -> super.execute(input));
      }
    };
  }
}
