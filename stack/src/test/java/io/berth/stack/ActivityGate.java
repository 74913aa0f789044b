package io.berth.stack;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds one activity type for one user at the activity boundary until {@link #open} (at most
 * {@code bound} seconds, well inside the activity's start-to-close timeout): a saga caught midway,
 * so a test can look at a workspace while it is still coming up.
 */
final class ActivityGate extends WorkerInterceptorBase {
  private final String activityType;
  private final String user;
  private final long boundSeconds;
  private final CountDownLatch open = new CountDownLatch(1);
  private final CountDownLatch reached = new CountDownLatch(1);

  ActivityGate(String activityType, String user, long boundSeconds) {
    this.activityType = activityType;
    this.user = user;
    this.boundSeconds = boundSeconds;
  }

  void open() {
    open.countDown();
  }

  /** True once the held activity has started (and is waiting at the gate). */
  boolean reached() {
    return reached.getCount() == 0;
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
        String args = Arrays.deepToString(input.getArguments());
        if (context.getInfo().getActivityType().equals(activityType) && args.endsWith(", " + user + "]")) {
          reached.countDown();
          try {
            open.await(boundSeconds, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return super.execute(input);
      }
    };
  }
}
