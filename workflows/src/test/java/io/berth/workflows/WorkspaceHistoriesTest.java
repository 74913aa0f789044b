package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.Placement;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runs whose histories {@link ReplayTest} replays: each test is one kind of run, checked for
 * what it must do. With {@code -Dberth.recordHistories=<dir>} each writes its history there as
 * {@code workspace-<name>.json.gz}; copy them to {@code src/test/resources/histories/} when a change to
 * the workflow is released with a version marker (docs/ARCHITECTURE.md, "Changing workflow code").
 */
class WorkspaceHistoriesTest {
  private WorkspaceRuns runs;
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeActivities fakes;
  private FakeReclaim reclaim;

  @BeforeEach
  void start() {
    runs = new WorkspaceRuns(TestWorkflowEnvironment.newInstance());
    env = runs.env;
    client = runs.client;
    fakes = runs.fakes;
    reclaim = runs.reclaim;
  }

  @AfterEach
  void stop() {
    runs.close();
  }

  /** Warm, placement as activities: extend, beat, heartbeat, resync, release. */
  @Test
  void warmAllocationThenRelease() throws IOException {
    WorkspaceWorkflow wf = workflow("ann");
    assertEquals(WorkspaceState.READY, allocate("ann", Placement.ACTIVITIES).state());
    wf.extend(3600);
    wf.beat(env.currentTimeMillis());
    wf.heartbeat();
    fakes.sessions.clear(); // Redis lost the session: the resync writes it again
    wf.resync();
    Await.until("resynced", Duration.ofSeconds(30), () -> fakes.sessions.containsKey("ann"));
    wf.release("user");
    assertEquals("released by user", result("ann").reason());
    record("ann", "release");
  }

  /** Warm, placement in the claim's workflow task. */
  @Test
  void warmAllocationInTaskThenRelease() throws IOException {
    assertEquals(WorkspaceState.READY, allocate("ben", Placement.IN_TASK).state());
    workflow("ben").release("admin");
    assertEquals("released by admin", result("ben").reason());
    record("ben", "release-in-task");
  }

  /** Cold: no spare, capacity asked for, a spare joins, READY. */
  @Test
  void coldAllocation() throws IOException {
    fakes.pool.clear();
    assertEquals(WorkspaceState.PROVISIONING, allocate("cal", Placement.ACTIVITIES).state());
    fakes.pool.add("h-2/0");
    workflow("cal").spareAvailable();
    assertEquals(WorkspaceState.READY, allocate("cal", Placement.ACTIVITIES).state());
    workflow("cal").release("user");
    result("cal");
    record("cal", "cold");
  }

  /**
   * Cold, for a template with its own controller ({@code capacityId}): the run asks that controller
   * for capacity, tells it when it no longer waits, and pokes it when released.
   */
  @Test
  void coldAllocationAsksItsTemplatesController() throws IOException {
    fakes.pool.clear();
    WorkspaceParams params = WorkspaceWorkflowTest.defaults("gus").withCapacityId("capacity-shell");
    assertEquals(WorkspaceState.PROVISIONING, runs.allocate(params).state());
    fakes.pool.add("h-2/0");
    workflow("gus").spareAvailable();
    assertEquals(WorkspaceState.READY, runs.allocate(params).state());
    workflow("gus").release("user");
    result("gus");
    var events = client.fetchHistory(WorkspaceWorkflow.idFor("gus")).getEvents();
    List<String> signalled = events.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
        .map(e -> e.getSignalExternalWorkflowExecutionInitiatedEventAttributes())
        .map(a -> a.getSignalName() + " " + a.getWorkflowExecution().getWorkflowId()).distinct().toList();
    assertEquals(List.of("needCapacity capacity-shell", "cancelNeed capacity-shell", "poke capacity-shell"), signalled);
    assertEquals(List.of("capacity-shell"), List.copyOf(fakes.pokedControllers), "released: its controller poked");
    record("gus", "cold-capacity-id");
  }

  /** A placement step fails: every started step is undone, then the claim. */
  @Test
  void rollback() throws IOException {
    fakes.failing = "routeWorkspace";
    assertEquals(WorkspaceState.FAILED, allocate("dee", Placement.ACTIVITIES).state());
    assertEquals(WorkspaceState.FAILED, result("dee").state());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    record("dee", "rollback");
  }

  /** Idle: armed, kept once by activity recorded in Redis, armed again, reclaimed. */
  @Test
  void idleReclaim() throws Exception {
    reclaim.gate = new java.util.concurrent.CountDownLatch(1);
    allocate("eve", Placement.IN_TASK);
    var ended = java.util.concurrent.CompletableFuture.supplyAsync(() -> result("eve"));
    assertTrue(reclaim.armed.await(60, java.util.concurrent.TimeUnit.SECONDS));
    fakes.lastActivity = env.currentTimeMillis();
    reclaim.gate.countDown();
    assertEquals("idle", ended.get(60, java.util.concurrent.TimeUnit.SECONDS).reason());
    assertEquals(2, reclaim.calls);
    record("eve", "idle-reclaim");
  }

  /** Enough beats for the history limit: the run continues as new, READY, and the next run ends it. */
  @Test
  void continueAsNew() throws IOException {
    WorkspaceView ready = allocate("fox", Placement.IN_TASK);
    WorkspaceWorkflow wf = workflow("fox");
    String firstRun = runIdOf("fox");
    // Each beat moves the deadline by a millisecond: an event, and a wake-up of the active loop.
    // Signals that arrive together share a workflow task: the limit takes some thousands. A task
    // that continues as new while more signals arrive is refused and runs again: the run continues
    // once they stop.
    int beats = 0;
    while (client.fetchHistory(WorkspaceWorkflow.idFor("fox"), firstRun).getEvents().size()
        <= WorkspaceWorkflowImpl.HISTORY_LIMIT && beats < 4 * WorkspaceWorkflowImpl.HISTORY_LIMIT) {
      for (int i = 0; i < 500; i++) {
        wf.beat(ready.allocatedAtMillis() + ++beats);
      }
    }
    Await.until("continued as new", Duration.ofSeconds(60), () -> !runIdOf("fox").equals(firstRun));
    assertEquals(WorkspaceState.READY, wf.view().state());
    writeHistory(client.fetchHistory(WorkspaceWorkflow.idFor("fox"), firstRun).toJson(false), "continue-as-new");
    wf.release("user");
    assertEquals("released by user", result("fox").reason());
    record("fox", "resumed-release");
  }

  private String runIdOf(String user) {
    WorkflowExecution e = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe().getExecution();
    return e.getRunId();
  }

  private WorkspaceView allocate(String user, Placement placement) {
    return runs.allocate(WorkspaceWorkflowTest.defaults(user).withPlacement(placement));
  }

  private WorkspaceWorkflow workflow(String user) {
    return runs.workflow(user);
  }

  private WorkspaceView result(String user) {
    return runs.result(user);
  }

  private void record(String user, String name) throws IOException {
    writeHistory(client.fetchHistory(WorkspaceWorkflow.idFor(user)).toJson(false), name);
  }

  /** Gzipped: a continued-as-new run is thousands of events. */
  private static void writeHistory(String json, String name) throws IOException {
    String dir = System.getProperty("berth.recordHistories");
    if (dir != null) {
      try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(
          Path.of(dir).resolve("workspace-" + name + ".json.gz")))) {
        out.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
  }
}
