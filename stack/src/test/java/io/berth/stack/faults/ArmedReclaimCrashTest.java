package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker process dies (SIGKILL) while it holds an armed reclaim. The armed call dies with it;
 * its start-to-close (lead + 15 s) runs out, and the retry on the new worker, past the deadline
 * by then, checks at once: the idle workspace's route goes and the teardown follows.
 */
class ArmedReclaimCrashTest {
  static final Duration IDLE = Duration.ofSeconds(8);
  static final Duration LEAD = Duration.ofSeconds(4);
  static FaultStack f;

  @BeforeAll
  static void start() {
    f = FaultStack.start(Map.of("BERTH_SPARES", "1", "BERTH_MAX_HOSTS", "4", "BERTH_IDLE_TIMEOUT", IDLE.toString(),
        "BERTH_RECLAIM_LEAD", LEAD.toString()));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aWorkerKilledWhileArmedIsReplacedAndTheRetryReclaimsAtOnce() {
    f.ready("ivy");
    long deadline = Long.parseLong(f.session("ivy").get("idleDeadline"));
    f.awaitScheduled("ivy", "ReclaimAt", Duration.ofSeconds(30));
    assertTrue(System.currentTimeMillis() < deadline, "armed before the deadline");
    f.worker().kill();
    f.startWorker();

    // Nobody removes the route at the deadline (its armed call died); the retry does, once the
    // first attempt's start-to-close has run out.
    long bound = deadline + LEAD.toMillis() + 15_000 + 20_000;
    Await.until("ivy's route gone", Duration.ofMillis(Math.max(1, bound - System.currentTimeMillis())),
        () -> !f.routed("ivy"));
    long goneAt = System.currentTimeMillis();
    assertTrue(goneAt >= deadline, "gone before the deadline");
    WorkspaceView end = f.awaitEnd("ivy", Duration.ofSeconds(60));
    assertEquals("idle", end.reason());
    assertFalse(f.routed("ivy"));
    List<HistoryEvent> events = f.history("ivy");
    long scheduledId = events.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            && "ReclaimAt".equals(e.getActivityTaskScheduledEventAttributes().getActivityType().getName()))
        .findFirst().orElseThrow().getEventId();
    HistoryEvent started = events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        && e.getActivityTaskStartedEventAttributes().getScheduledEventId() == scheduledId).findFirst().orElseThrow();
    assertTrue(started.getActivityTaskStartedEventAttributes().getAttempt() >= 2,
        "the armed reclaim ran again on the new worker after the first attempt timed out");
    Invariants.awaitHold(f.sources(), List.of("ivy"), Duration.ofSeconds(60));
    System.out.printf("armed reclaim after a worker crash: route gone %d ms after the deadline%n", goneAt - deadline);
  }
}
