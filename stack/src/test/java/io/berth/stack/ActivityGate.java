package io.berth.stack;

import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Holds one activity type for one user at the activity boundary until {@link #open} (at most
 * {@code bound} seconds, well inside the activity's start-to-close timeout): a saga caught midway,
 * so a test can look at a workspace while it is still coming up.
 */
final class ActivityGate extends ActivityBoundary {
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
  protected ActivityInboundCallsInterceptor.ActivityOutput around(ActivityInfo info,
      ActivityInboundCallsInterceptor.ActivityInput input, Supplier<ActivityInboundCallsInterceptor.ActivityOutput> proceed) {
    String args = Arrays.deepToString(input.getArguments());
    if (info.getActivityType().equals(activityType) && args.endsWith(", " + user + "]")) {
      reached.countDown();
      try {
        open.await(boundSeconds, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return proceed.get();
  }
}
