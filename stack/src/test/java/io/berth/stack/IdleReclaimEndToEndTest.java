package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The idle timer with a 3 s timeout on the real stack. The coalescing window is 1 s, so a
 * heartbeat every 500 ms signals the workflow at most every second; the rest only reach Redis.
 * The reclaim is armed (default lead at 3 s idle: 1.5 s): the worker removes the route at the
 * deadline itself, so the "armed window" is the 1.5 s before each deadline.
 */
class IdleReclaimEndToEndTest {
  static final Duration IDLE = Duration.ofSeconds(3);
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_IDLE_TIMEOUT", IDLE.toString(), "BERTH_HEARTBEAT_WINDOW", "PT1S",
        "BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "20"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void heartbeatsKeepAWorkspacePastItsIdleTimeoutAndSilenceReclaimsIt() throws Exception {
    f.ready("alice");
    String token = f.workspaceToken("alice");
    String slot = f.session("alice").get("slotId");
    String oldPid = pidOf(slot);
    long start = System.currentTimeMillis();
    // Three idle timeouts' worth of activity, one beat every 500 ms.
    while (System.currentTimeMillis() - start < 3 * IDLE.toMillis()) {
      assertEquals(204, f.heartbeat(token).statusCode());
      Thread.sleep(500); // the workspace's own pace, not a wait for the system
    }
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("alice"));
    assertEquals(200, f.asOwner("alice", "/healthz").status());
    assertEquals(302, f.viaGateway("alice", "/healthz").status(), "without the owner's cookie");

    WorkspaceView end = f.awaitEnd("alice", IDLE.multipliedBy(5));
    assertEquals("idle", end.reason());
    assertEquals(404, f.viaGateway("alice", "/healthz").status());
    assertFalse(f.hasRoute("alice"));
    assertTrue(f.session("alice").isEmpty());
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, f.workflowStatus("alice"));
    assertEquals(null, f.ownerOf(slot));
    // Recycled: a fresh process, then back in the pool after its probe.
    Await.until("a fresh process for " + slot, Duration.ofSeconds(30), () -> !oldPid.equals(pidOf(slot)));
    Await.until(slot + " back in the pool", Duration.ofSeconds(30),
        () -> f.stack.redis().sismember(f.stack.keys().pool("demo"), slot));
    // The leaked token of a workspace that is gone is refused.
    assertEquals(401, f.heartbeat(token).statusCode());
  }

  @Test
  void aForgedHeartbeatIsRefusedAndDoesNotResetTheTimer() {
    f.ready("bob");
    long deadline = f.idleDeadline("bob");
    String lastSeen = f.session("bob").get("lastSeen");
    String real = f.workspaceToken("bob");
    for (String forged : new String[] {"not-a-token", real.substring(0, real.length() - 2) + "xx", ""}) {
      int status = f.heartbeat(forged).statusCode();
      assertEquals(401, status, "token " + forged);
    }
    assertEquals(lastSeen, f.session("bob").get("lastSeen"));
    WorkspaceView end = f.awaitEnd("bob", IDLE.multipliedBy(5));
    assertEquals("idle", end.reason());
    // Reclaimed on the original deadline: the forged beats moved nothing.
    assertTrue(System.currentTimeMillis() - deadline < 3_000, "reclaimed long after the deadline");
  }

  @Test
  void extendPushesTheIdleDeadline() {
    f.ready("carol");
    long before = f.idleDeadline("carol");
    var r = f.call("POST", "/api/workspaces/me/extend", StackFixture.token("carol"), "{\"seconds\":8}");
    assertEquals(200, r.statusCode(), r.body());
    long start = System.currentTimeMillis();
    WorkspaceView end = f.awaitEnd("carol", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    assertTrue(end.idleDeadlineMillis() >= before + 4_000, "deadline moved by the extend");
    assertTrue(System.currentTimeMillis() - start >= 5_000, "outlived the 3 s idle timeout");
  }

  /**
   * No activity: the route stops serving through Nginx at the deadline, not before it and within
   * a second after it; then the teardown runs as before.
   */
  @Test
  void withoutActivityTheRouteStopsServingAtTheDeadline() throws Exception {
    f.ready("dan");
    long deadline = f.idleDeadline("dan");
    StackFixture.RouteGone gone = f.pollUntilGone("dan", deadline + 5_000);
    long lastRoutedBefore = gone.lastServedSentAt();
    long goneSentAt = gone.goneSentAt();
    long goneSeenAt = gone.goneSeenAt();
    assertEquals(0, gone.otherStatus(), "until gone, every answer is the workspace's (302: routed, no cookie)");
    assertTrue(goneSeenAt > 0, "the route never stopped serving");
    assertTrue(goneSeenAt >= deadline, "gone " + (deadline - goneSeenAt) + " ms before the deadline");
    assertTrue(goneSentAt - deadline <= 1_000, "gone " + (goneSentAt - deadline) + " ms after the deadline");
    assertTrue(lastRoutedBefore >= deadline - 200, "still served inside the armed window, until the deadline");
    assertFalse(f.hasRoute("dan"));
    assertEquals(1, scheduled("dan", "ReclaimAt"), "one armed reclaim, no keep");

    WorkspaceView end = f.awaitEnd("dan", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    assertEquals(deadline, end.idleDeadlineMillis());
    assertTrue(f.session("dan").isEmpty());
    assertEquals(1, scheduled("dan", "UnrouteWorkspace"), "the teardown still unroutes (finding nothing)");
  }

  /** A heartbeat inside the armed window reaches Redis, where the armed check looks: the workspace stays. */
  @Test
  void aHeartbeatDuringTheArmedWindowKeepsTheWorkspace() throws Exception {
    f.ready("erin");
    String token = f.workspaceToken("erin");
    long deadline = f.idleDeadline("erin");
    Await.until("erin's reclaim armed", Duration.ofSeconds(10), () -> scheduled("erin", "ReclaimAt") == 1);
    assertTrue(System.currentTimeMillis() < deadline, "armed before the deadline");
    long beat = System.currentTimeMillis();
    assertEquals(204, f.heartbeat(token).statusCode());

    sleepUntil(deadline + 500);
    assertEquals(302, f.viaGateway("erin", "/healthz").status(), "still routed past the old deadline");
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("erin"));
    WorkspaceView end = f.awaitEnd("erin", IDLE.multipliedBy(5));
    assertEquals("idle", end.reason());
    assertTrue(end.idleDeadlineMillis() >= beat + IDLE.toMillis(), "reclaimed at the deadline the beat set");
    assertEquals(404, f.viaGateway("erin", "/healthz").status());
  }

  /** An extend inside the armed window is recorded where the armed check looks: the workspace stays. */
  @Test
  void anExtendDuringTheArmedWindowKeepsTheWorkspace() throws Exception {
    f.ready("fay");
    long deadline = f.idleDeadline("fay");
    Await.until("fay's reclaim armed", Duration.ofSeconds(10), () -> scheduled("fay", "ReclaimAt") == 1);
    assertTrue(System.currentTimeMillis() < deadline, "armed before the deadline");
    var r = f.call("POST", "/api/workspaces/me/extend", StackFixture.token("fay"), "{\"seconds\":6}");
    assertEquals(200, r.statusCode(), r.body());

    sleepUntil(deadline + 1_000);
    assertEquals(302, f.viaGateway("fay", "/healthz").status(), "still routed past the old deadline");
    WorkspaceView end = f.awaitEnd("fay", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    assertTrue(end.idleDeadlineMillis() >= deadline + 3_000, "the extended deadline expired, not the old one");
    assertEquals(404, f.viaGateway("fay", "/healthz").status());
  }

  /** How many times the user's current run scheduled {@code activityType}. */
  private static long scheduled(String user, String activityType) {
    return f.stack.temporal().client().fetchHistory(WorkspaceWorkflow.idFor(user)).getEvents().stream()
        .filter(e -> e.hasActivityTaskScheduledEventAttributes()
            && activityType.equals(e.getActivityTaskScheduledEventAttributes().getActivityType().getName()))
        .count();
  }

  /** For assertions that something has NOT happened by a time: nothing to await but the clock. */
  private static void sleepUntil(long epochMillis) throws InterruptedException {
    long left = epochMillis - System.currentTimeMillis();
    if (left > 0) {
      Thread.sleep(left);
    }
  }

  private static String pidOf(String slotId) {
    String[] parts = slotId.split("/");
    return String.valueOf(f.stack.redis().hget(f.stack.keys().instance(parts[0]), "pid." + parts[1]));
  }
}
