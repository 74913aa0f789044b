package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowNotFoundException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 6: the embedded Temporal (the test server, history in memory) dies and comes back
 * empty on the same port. What lives outside Temporal survives as it was: Redis (sessions, pool),
 * Nginx and its routes, the workspace processes, the heartbeat tokens. Every workflow is gone. The
 * worker notices that the capacity workflow is gone, registers the search attributes again,
 * re-creates each READY workspace's workflow from its session, and starts the controller again;
 * the API starts new workflows on the new server as before. (A real Temporal keeps its history in
 * its database: nothing of this happens there; see docs/FAULTS.md.)
 */
class TemporalRestartTest {
  static FaultStack f;

  @BeforeAll
  static void start() {
    f = FaultStack.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "8"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aTemporalServerThatLostEverythingGetsTheWorkspacesWorkflowsBack() throws Exception {
    f.ready("ava");
    f.ready("ben");
    String avaWorkspace = f.session("ava").get("workspaceId");
    String avaToken = f.workspaceToken("ava");
    String avaRun = runId(WorkspaceWorkflow.idFor("ava"));
    String capacityRun = runId(CapacityWorkflow.ID);
    String danSlot = danInFlight();
    String danClaim = f.redis.hget(f.keys.slot(danSlot), "claimedBy");
    assertNotNull(danClaim, "dan's saga holds its slot by a claim");

    f.temporal().kill();
    stopped.forEach(pid -> ProcessHandle.of(pid).ifPresent(p -> FaultStack.signal("CONT", pid)));
    f.startTemporal();
    // Outside Temporal nothing changed (launch links need Temporal: Nginx's own check says it routes).
    assertTrue(f.routed("ava"));
    assertEquals("READY", f.session("ava").get("state"));

    // A new user right away: the API starts a workflow on the new server.
    CompletableFuture<HttpResponse<String>> cara = CompletableFuture.supplyAsync(() -> f.allocate("cara"));

    Await.until("the controller started again", Duration.ofSeconds(60), () -> running(CapacityWorkflow.ID));
    WorkspaceView ava = Await.value("ava's workflow re-created", Duration.ofSeconds(60), () -> {
      WorkspaceView v = f.view("ava");
      return v.state() == WorkspaceState.READY ? v : null;
    });
    assertEquals(avaWorkspace, ava.workspaceId(), "the same workspace, carried over from its session");
    assertNotEquals(avaRun, runId(WorkspaceWorkflow.idFor("ava")), "a new run: the old one went with the server");
    assertNotEquals(capacityRun, runId(CapacityWorkflow.ID));
    assertEquals(200, f.call("GET", "/api/workspaces/me", FaultStack.token("ava"), null).statusCode());
    assertTrue(f.asOwner("ava", "/").body().contains("Workspace of ava"));
    assertEquals(204, f.heartbeat(avaToken).statusCode(), "ava's workspace keeps its heartbeat token");

    HttpResponse<String> c = cara.get(120, TimeUnit.SECONDS);
    assertTrue(c.statusCode() == 200 || c.statusCode() == 202, c.statusCode() + " " + c.body());
    Await.until("cara READY", Duration.ofSeconds(60), () -> f.view("cara").state() == WorkspaceState.READY);

    // The re-created workflow does what the lost one would have: release tears down.
    assertEquals(202, f.release("ben").statusCode());
    assertEquals(WorkspaceState.RELEASED, f.awaitEnd("ben", Duration.ofSeconds(60)).state());
    Invariants.awaitHold(f.sources(), List.of("ava", "ben", "cara"), Duration.ofSeconds(60));
    // dan's saga went with the server after tagging the slot. The API's call retried into the new
    // server and dan has a new workspace: the old slot is left behind (had the call not retried, an
    // orphan). Either way the lost claim is undone and the slot comes back: to the pool, with its
    // host gone, or, when the repair gave it back before dan's new saga claimed a spare, to dan's
    // new workspace itself.
    Await.until("dan's lost claim undone and its slot given back", Duration.ofSeconds(60), () -> {
      String claim = f.redis.hget(f.keys.slot(danSlot), "claimedBy");
      Map<String, String> danNow = f.session("dan");
      boolean danHoldsItAgain = danSlot.equals(danNow.get("slotId")) && "READY".equals(danNow.get("state"));
      return !danClaim.equals(claim) && (danHoldsItAgain || claim == null
          && (f.redis.sismember(f.keys.pool("demo"), danSlot) || !hostRunning(danSlot.split("/")[0])));
    });
    System.out.println("worker after the Temporal restart:\n" + f.worker().log().lines()
        .filter(l -> l.contains("capacity workflow") || l.contains("re-created")).reduce("", (a, b) -> a + b + "\n"));
    System.out.println("the controller's decisions about dan's slot " + danSlot + ": " + f.client()
        .newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).status().decisions().stream()
        .filter(d -> d.reason().contains(danSlot) || d.action().equals("drop-dead-claims")).toList());
  }

  private final List<Long> stopped = new java.util.ArrayList<>();

  /**
   * An allocation in flight when the server dies: the spares are stopped (SIGSTOP), so dan's saga
   * has claimed one and waits in its readiness probe (tag, protect and DNS run beside it). Returns
   * the claimed slot.
   */
  private String danInFlight() {
    f.awaitSpares(2);
    List<String> spares = List.copyOf(f.redis.smembers(f.keys.pool("demo")));
    for (String id : spares) {
      String[] p = id.split("/");
      stopped.add(Long.parseLong(f.redis.hget(f.keys.instance(p[0]), "pid." + p[1])));
    }
    stopped.forEach(pid -> FaultStack.signal("STOP", pid));
    CompletableFuture.runAsync(() -> {
      try {
        f.allocate("dan");
      } catch (RuntimeException serverGone) {
        // expected: the server dies under the call
      }
    });
    f.awaitScheduled("dan", "AwaitReady", Duration.ofSeconds(30));
    String slot = spares.stream().filter(id -> "dan".equals(f.redis.hget(f.keys.slot(id), "claimedFor"))).findFirst()
        .orElseThrow(() -> new AssertionError("no spare claimed for dan among " + spares));
    // The tag runs beside the probe: once it landed the slot's way back does not depend on a race.
    Await.until("dan's slot tagged", Duration.ofSeconds(30), () -> f.fleet().describe().hosts().stream()
        .flatMap(h -> h.slots().stream()).anyMatch(s -> s.slot().slotId().equals(slot) && "dan".equals(s.owner())));
    return slot;
  }

  private static boolean hostRunning(String hostId) {
    return f.fleet().describe().hosts().stream().anyMatch(h -> h.hostId().equals(hostId) && h.running());
  }

  private static String runId(String workflowId) {
    return f.client().newUntypedWorkflowStub(workflowId).describe().getExecution().getRunId();
  }

  private static boolean gone(String workflowId) {
    try {
      f.client().newUntypedWorkflowStub(workflowId).describe();
      return false;
    } catch (WorkflowNotFoundException e) {
      return true;
    }
  }

  private static boolean running(String workflowId) {
    return !gone(workflowId) && f.client().newUntypedWorkflowStub(workflowId).describe().getStatus()
        == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }
}
