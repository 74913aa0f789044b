package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
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
    long deadline = Long.parseLong(f.session("bob").get("idleDeadline"));
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
    long before = Long.parseLong(f.session("carol").get("idleDeadline"));
    var r = f.call("POST", "/api/workspaces/me/extend", StackFixture.token("carol"), "{\"seconds\":8}");
    assertEquals(200, r.statusCode(), r.body());
    long start = System.currentTimeMillis();
    WorkspaceView end = f.awaitEnd("carol", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    assertTrue(end.idleDeadlineMillis() >= before + 4_000, "deadline moved by the extend");
    assertTrue(System.currentTimeMillis() - start >= 5_000, "outlived the 3 s idle timeout");
  }

  private static String pidOf(String slotId) {
    String[] parts = slotId.split("/");
    return String.valueOf(f.stack.redis().hget(f.stack.keys().instance(parts[0]), "pid." + parts[1]));
  }
}
