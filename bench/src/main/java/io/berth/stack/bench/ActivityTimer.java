package io.berth.stack.bench;

import io.berth.stack.ActivityBoundary;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Where an allocation's time goes: how long each activity body ran, by activity type, measured
 * at the worker's activity boundary. The rest of an allocation is Temporal's (tasks, polling)
 * and the API's.
 */
final class ActivityTimer extends ActivityBoundary {
  private final Map<String, ConcurrentLinkedQueue<Double>> byType = new ConcurrentHashMap<>();
  private volatile BiConsumer<String, Object[]> onCompleted = (t, a) -> { };

  void reset() {
    byType.clear();
  }

  /** Called after each activity completes, with its type and arguments (capacity scenario: AddSpares). */
  void onCompleted(BiConsumer<String, Object[]> listener) {
    this.onCompleted = listener;
  }

  /** Samples per activity type, in milliseconds. */
  Map<String, Stats> snapshot() {
    Map<String, Stats> m = new TreeMap<>();
    byType.forEach((type, q) -> m.put(type, Stats.of(new ArrayList<>(q))));
    return m;
  }

  List<String> types() {
    return new ArrayList<>(new TreeMap<>(byType).keySet());
  }

  @Override
  protected ActivityInboundCallsInterceptor.ActivityOutput around(ActivityInfo info,
      ActivityInboundCallsInterceptor.ActivityInput input, Supplier<ActivityInboundCallsInterceptor.ActivityOutput> proceed) {
    // The session step with the controller's poke counts as the session step (HistorySteps).
    String type = io.berth.workflows.HistorySteps.stepOf(info.getActivityType());
    long t0 = System.nanoTime();
    try {
      ActivityInboundCallsInterceptor.ActivityOutput out = proceed.get();
      onCompleted.accept(type, input.getArguments());
      return out;
    } finally {
      byType.computeIfAbsent(type, k -> new ConcurrentLinkedQueue<>()).add((System.nanoTime() - t0) / 1e6);
    }
  }
}
