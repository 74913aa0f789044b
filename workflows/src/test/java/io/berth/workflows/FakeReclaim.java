package io.berth.workflows;

import io.berth.workflows.activities.ReclaimActivities;
import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The armed reclaim under time skipping: it waits for the deadline in the test environment's
 * clock ({@code env.sleep} lets time skip while it waits), then decides from the fakes' last
 * activity and its own holds, the way the real one's Lua step does, and removes the fake route.
 * With {@link #gate} set, a call first waits (real time, with the clock stopped: an activity is
 * running) until the test opens it, so a test can act inside the armed window.
 */
final class FakeReclaim implements ReclaimActivities {
  private final TestWorkflowEnvironment env;
  private final FakeActivities fakes;
  final Map<String, Long> holds = new ConcurrentHashMap<>();
  final Set<String> reclaimed = ConcurrentHashMap.newKeySet();
  /** Test clock when each call was armed and when it decided (the last call's). */
  volatile long armedAt;
  volatile long decidedAt;
  volatile long armedDeadline;
  volatile int calls;
  volatile CountDownLatch gate;
  /** Set: every call fails for good (as a malformed request does), so the workflow must fall back to its timer. */
  volatile boolean refuse;
  final CountDownLatch armed = new CountDownLatch(1);

  FakeReclaim(TestWorkflowEnvironment env, FakeActivities fakes) {
    this.env = env;
    this.fakes = fakes;
  }

  @Override
  public ReclaimOutcome reclaimAt(ReclaimRequest request) {
    calls++;
    if (refuse) {
      throw io.temporal.failure.ApplicationFailure.newNonRetryableFailure("refused (test)", ActivityStubs.INVALID_INPUT);
    }
    armedAt = env.currentTimeMillis();
    armedDeadline = request.deadlineMillis();
    armed.countDown();
    CountDownLatch g = gate;
    if (g != null) {
      try {
        if (!g.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("gate not opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    long wait = request.deadlineMillis() - env.currentTimeMillis();
    if (wait > 0) {
      env.sleep(Duration.ofMillis(wait));
    }
    decidedAt = env.currentTimeMillis();
    String id = request.route().requestId();
    long last = fakes.lastActivity(request.route().user());
    if (reclaimed.contains(id)) {
      return new ReclaimOutcome(true, last, 0, decidedAt);
    }
    long held = holds.getOrDefault(id, 0L);
    if (last + request.idleMillis() > request.deadlineMillis() || held > request.deadlineMillis()) {
      return new ReclaimOutcome(false, last, held, decidedAt);
    }
    reclaimed.add(id);
    fakes.routes.remove(request.route().label());
    fakes.calls.add("reclaimAt:reclaimed");
    return new ReclaimOutcome(true, last, 0, decidedAt);
  }

  @Override
  public boolean holdUntil(String requestId, long deadlineMillis) {
    if (reclaimed.contains(requestId)) {
      return false;
    }
    holds.merge(requestId, deadlineMillis, Math::max);
    return true;
  }
}
