package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.ReclaimActivities;
import io.berth.workflows.activities.RouteActivities;
import io.berth.workflows.activities.SessionActivities;
import io.berth.workflows.activities.StoreActivities;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * Activity options per outside system. Saga steps retry a few times and then compensate;
 * teardown steps retry without limit because teardown must converge.
 */
final class ActivityStubs {
  static final String INVALID_INPUT = "InvalidInput";
  /** The saga's probe: one attempt, and all of them (then the slot is quarantined). */
  private static final Duration PROBE_ATTEMPT = Duration.ofSeconds(10);
  private static final Duration PROBE_BOUND = Duration.ofSeconds(30);

  private ActivityStubs() {}

  /** Redis and Nginx: local and quick. */
  private static ActivityOptions quick(int attempts) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(15))
        .setRetryOptions(quickRetry(attempts))
        .build();
  }

  /** {@code attempts} 0: until it answers (teardown converges), backing off to 10 s; else a few, to 2 s. */
  private static RetryOptions quickRetry(int attempts) {
    return RetryOptions.newBuilder(backoff(Duration.ofSeconds(attempts == 0 ? 10 : 2)))
        .setMaximumAttempts(attempts)
        .build();
  }

  /** Redis-bound steps: 100 ms, doubling up to {@code max}, any number of attempts; bad input never retried. */
  private static RetryOptions backoff(Duration max) {
    return RetryOptions.newBuilder()
        .setInitialInterval(Duration.ofMillis(100))
        .setBackoffCoefficient(2)
        .setMaximumInterval(max)
        .setDoNotRetry(INVALID_INPUT)
        .build();
  }

  /** Cloud calls (fleet, DNS): longer, with backoff for throttling. */
  private static ActivityOptions cloud(int attempts) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(30))
        .setRetryOptions(RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofMillis(200))
            .setBackoffCoefficient(2)
            .setMaximumInterval(Duration.ofSeconds(attempts == 0 ? 60 : 10))
            .setMaximumAttempts(attempts)
            .setDoNotRetry(INVALID_INPUT)
            .build())
        .build();
  }

  /**
   * For steps that run side by side: a cancelled call resolves only once the activity has ended,
   * not at once (the SDK's default), so that no compensation overtakes the step it undoes.
   */
  private static ActivityOptions settling(ActivityOptions options, boolean settle) {
    return settle
        ? ActivityOptions.newBuilder(options)
            .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED).build()
        : options;
  }

  static ProbeActivities probeUntilReady() {
    return probeUntilReady(false);
  }

  /** The saga's readiness step: retried for up to half a minute, then the slot is quarantined. */
  static ProbeActivities probeUntilReady(boolean settle) {
    return Workflow.newActivityStub(ProbeActivities.class, settling(ActivityOptions.newBuilder()
        .setStartToCloseTimeout(PROBE_ATTEMPT)
        .setScheduleToCloseTimeout(PROBE_BOUND)
        .setRetryOptions(probeRetry())
        .build(), settle));
  }

  private static RetryOptions probeRetry() {
    return RetryOptions.newBuilder()
        .setInitialInterval(Duration.ofMillis(200))
        .setBackoffCoefficient(1.5)
        .setMaximumInterval(Duration.ofSeconds(3))
        .setDoNotRetry(INVALID_INPUT)
        .build();
  }

  static ProbeActivities probeOnce() {
    return Workflow.newActivityStub(ProbeActivities.class, control());
  }

  /**
   * The controller's reads and small writes: short, so that a pass stuck on a dead worker is
   * retried elsewhere within seconds rather than a minute.
   */
  private static ActivityOptions control() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(10))
        .setRetryOptions(RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofMillis(200))
            .setMaximumInterval(Duration.ofSeconds(2))
            .setMaximumAttempts(3)
            .setDoNotRetry(INVALID_INPUT)
            .build())
        .build();
  }

  static StoreActivities controlStore() {
    return Workflow.newActivityStub(StoreActivities.class, control());
  }

  static ClaimActivities controlClaims() {
    return Workflow.newActivityStub(ClaimActivities.class, control());
  }

  static FleetActivities controlFleet() {
    return Workflow.newActivityStub(FleetActivities.class, control());
  }

  /**
   * Redis reads the workflow needs in the same task that wakes it (the idle check before a
   * reclaim): a local activity saves a task round trip through the server. It retries until Redis
   * answers, since a reclaim must not be decided, nor the workflow fail, on a Redis outage.
   */
  static StoreActivities localStore() {
    return Workflow.newLocalActivityStub(StoreActivities.class, local(0));
  }

  /**
   * The saga's Redis steps (claim a spare, store the session) as local activities: each is a
   * millisecond of Redis work, and as a regular activity it costs a task round trip through the
   * server on the path of every warm allocation. A few attempts, then the saga compensates.
   */
  static StoreActivities localSagaStore() {
    return Workflow.newLocalActivityStub(StoreActivities.class, local(4));
  }

  /** The session step with the controller's poke after it ({@link SessionThenPoke}), as {@link #localSagaStore}. */
  static SessionActivities localSessionThenPoke() {
    return Workflow.newLocalActivityStub(SessionActivities.class, local(4));
  }

  /**
   * The capacity controller's poke ({@link CapacityPokes}): a local activity that only hands the
   * poke to the worker, one attempt (a lost poke costs at most a wait for the controller's timer).
   */
  static CapacityActivities localPokes() {
    return Workflow.newLocalActivityStub(CapacityActivities.class, LocalActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(5))
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build());
  }

  /** Redis work inside the workflow task; {@code attempts} 0: until Redis answers, as {@link #quick}. */
  private static LocalActivityOptions local(int attempts) {
    return LocalActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(5))
        .setRetryOptions(quickRetry(attempts))
        .build();
  }

  /**
   * Armed reclaim: the activity waits out the lead on the worker (holding no thread), so its
   * start-to-close is the lead plus the same 15 s a quick step gets. A worker that dies while
   * holding it is noticed when that runs out, and the retry on another worker checks at once (the
   * deadline has passed by then). Retried until it answers: an idle workspace must go eventually.
   */
  static ReclaimActivities armedReclaim(Duration lead) {
    return Workflow.newActivityStub(ReclaimActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(lead.plusSeconds(15))
        .setRetryOptions(backoff(Duration.ofSeconds(5)))
        .build());
  }

  /**
   * The extend's hold in Redis, written from the update handler before it moves the deadline: a
   * local activity (the same task), bounded so that an extend during a Redis outage fails instead
   * of hanging the caller.
   */
  static ReclaimActivities localHold() {
    return Workflow.newLocalActivityStub(ReclaimActivities.class, LocalActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(5))
        .setScheduleToCloseTimeout(Duration.ofSeconds(20))
        .setRetryOptions(backoff(Duration.ofSeconds(2)))
        .build());
  }

  /**
   * The placement steps (probe, tag, protect, DNS, route) as local activities, for a worker whose
   * fleet and DNS are local (Redis and loopback calls of a few milliseconds): they then run inside
   * the workflow task that claimed the slot, and a warm allocation needs no activity round trip
   * through the server. Same bounds and retries as their regular stubs; a local activity is never
   * cancelled half way (the SDK lets it finish), which is what the side-by-side saga wants anyway.
   */
  static final class InTask {
    private InTask() {}

    static ProbeActivities probeUntilReady() {
      return Workflow.newLocalActivityStub(ProbeActivities.class, LocalActivityOptions.newBuilder()
          .setStartToCloseTimeout(PROBE_ATTEMPT)
          .setScheduleToCloseTimeout(PROBE_BOUND)
          .setRetryOptions(probeRetry())
          .build());
    }

    static FleetActivities fleet() {
      return Workflow.newLocalActivityStub(FleetActivities.class, localQuick());
    }

    static DnsActivities dns() {
      return Workflow.newLocalActivityStub(DnsActivities.class, localQuick());
    }

    static RouteActivities routes() {
      return Workflow.newLocalActivityStub(RouteActivities.class, localQuick());
    }

    /** As {@link #quick}(4): a route through a reloading Nginx may take a second or two. */
    private static LocalActivityOptions localQuick() {
      return LocalActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(15))
          .setRetryOptions(quickRetry(4))
          .build();
    }
  }

  static StoreActivities store(boolean converge) {
    return Workflow.newActivityStub(StoreActivities.class, quick(converge ? 0 : 4));
  }

  static RouteActivities routes(boolean converge) {
    return routes(converge, false);
  }

  static RouteActivities routes(boolean converge, boolean settle) {
    return Workflow.newActivityStub(RouteActivities.class, settling(quick(converge ? 0 : 4), settle));
  }

  static FleetActivities fleet(boolean converge) {
    return fleet(converge, false);
  }

  static FleetActivities fleet(boolean converge, boolean settle) {
    return Workflow.newActivityStub(FleetActivities.class, settling(cloud(converge ? 0 : 5), settle));
  }

  static DnsActivities dns(boolean converge) {
    return dns(converge, false);
  }

  static DnsActivities dns(boolean converge, boolean settle) {
    return Workflow.newActivityStub(DnsActivities.class, settling(cloud(converge ? 0 : 5), settle));
  }
}
