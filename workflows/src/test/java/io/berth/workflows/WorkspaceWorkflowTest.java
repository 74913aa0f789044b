package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.UpdateOptions;
import io.temporal.client.WithStartWorkflowOperation;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The workspace workflow under time skipping, with in-memory outside systems. */
class WorkspaceWorkflowTest {
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeActivities fakes;

  @BeforeEach
  void start() {
    env = TestWorkflowEnvironment.newInstance();
    SearchAttributes.ALL.forEach(k -> env.registerSearchAttribute(k.getName(), k.getValueType()));
    fakes = new FakeActivities().withSpare("h-1/0");
    Worker worker = env.newWorker(TaskQueues.BERTH);
    worker.registerWorkflowImplementationTypes(WorkspaceWorkflowImpl.class);
    worker.registerActivitiesImplementations(fakes);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stop() {
    env.close();
  }

  static WorkspaceParams defaults(String user) {
    String label = Labels.labelFor(user);
    return new WorkspaceParams(user, label, label + ".localhost", "http://" + label + ".localhost:8088/", "demo",
        Duration.ofMinutes(30), Duration.ofHours(12), Duration.ofMinutes(5), Duration.ofSeconds(10), null);
  }

  private WorkspaceView allocate(WorkspaceParams params) {
    WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(params.user()))
        .setTaskQueue(TaskQueues.BERTH)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build());
    return WorkflowClient.executeUpdateWithStart(stub::allocate, new AllocateRequest(params.user(), "demo"),
        UpdateOptions.<WorkspaceView>newBuilder().build(), new WithStartWorkflowOperation<>(stub::run, params));
  }

  private WorkspaceView result(String user) {
    return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).getResult(WorkspaceView.class);
  }

  @Test
  void defaultIdleTimeoutReclaimsAfterThirtyMinutesWithoutHeartbeats() {
    WorkspaceView ready = allocate(defaults("alice"));
    assertEquals(WorkspaceState.READY, ready.state());
    assertEquals(1800, ready.idleTimeoutSeconds());
    long start = env.currentTimeMillis();

    WorkspaceView end = result("alice");

    assertEquals(WorkspaceState.RELEASED, end.state());
    assertEquals("idle", end.reason());
    long waited = env.currentTimeMillis() - start;
    assertTrue(waited >= Duration.ofMinutes(30).toMillis() && waited < Duration.ofMinutes(31).toMillis(),
        "reclaimed after " + waited + " ms");
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    assertTrue(fakes.recycled.contains("h-1/0"));
  }

  @Test
  void heartbeatsKeepTheWorkspacePastItsIdleTimeout() {
    allocate(defaults("bob"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("bob"));
    for (int i = 0; i < 4; i++) {
      env.sleep(Duration.ofMinutes(20));
      wf.heartbeat();
    }
    // 80 minutes in, well past 30: still there.
    assertEquals(WorkspaceState.READY, wf.view().state());
    long lastBeat = env.currentTimeMillis();
    WorkspaceView end = result("bob");
    assertEquals("idle", end.reason());
    assertTrue(env.currentTimeMillis() - lastBeat >= Duration.ofMinutes(30).toMillis());
  }

  @Test
  void activityRecordedInRedisButNotSignalledStillCounts() {
    allocate(defaults("carol"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("carol"));
    env.sleep(Duration.ofMinutes(25));
    // A coalesced heartbeat: Redis knows, the workflow was not signalled.
    fakes.lastActivity = env.currentTimeMillis();
    env.sleep(Duration.ofMinutes(10));
    assertEquals(WorkspaceState.READY, wf.view().state());
    assertTrue(fakes.calls.contains("lastActivity"));
    assertEquals("idle", result("carol").reason());
  }

  @Test
  void maxLifetimeEndsAWorkspaceThatKeepsBeating() {
    WorkspaceParams p = defaults("dave");
    p = new WorkspaceParams(p.user(), p.label(), p.hostname(), p.url(), p.template(), Duration.ofMinutes(30),
        Duration.ofHours(1), p.coldStartTimeout(), p.allocateWait(), null);
    allocate(p);
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("dave"));
    for (int i = 0; i < 5; i++) {
      env.sleep(Duration.ofMinutes(10));
      wf.heartbeat();
    }
    WorkspaceView end = result("dave");
    assertEquals("max lifetime reached", end.reason());
    assertTrue(fakes.nothingLeft());
  }

  @Test
  void releaseTearsDownAndExtendPushesTheDeadline() throws java.io.IOException {
    WorkspaceView ready = allocate(defaults("erin"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("erin"));
    WorkspaceView extended = wf.extend(3600);
    assertTrue(extended.idleDeadlineMillis() >= ready.allocatedAtMillis() + 3_600_000);
    assertEquals("READY", client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor("erin")).describe()
        .getTypedSearchAttributes().get(SearchAttributes.STATE));
    wf.release("user");
    WorkspaceView end = result("erin");
    WorkflowExecutionDescription done = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor("erin")).describe();
    assertEquals("RELEASED", done.getTypedSearchAttributes().get(SearchAttributes.STATE));
    assertEquals("erin", done.getTypedSearchAttributes().get(SearchAttributes.USER));
    if (System.getenv("BERTH_WRITE_HISTORY") != null) {
      java.nio.file.Files.writeString(java.nio.file.Path.of(System.getenv("BERTH_WRITE_HISTORY")),
          client.fetchHistory(WorkspaceWorkflow.idFor("erin")).toJson(true));
    }
    assertEquals(WorkspaceState.RELEASED, end.state());
    assertEquals("released by user", end.reason());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
  }

  @ParameterizedTest
  @ValueSource(strings = {"awaitReady", "tagOwner", "protectHost", "upsertRecord", "routeWorkspace", "storeSession"})
  void eachFailingStepUndoesEveryEarlierStep(String step) {
    fakes.failing = step;
    WorkspaceView view = allocate(defaults("frank"));
    assertEquals(WorkspaceState.FAILED, view.state());
    assertTrue(view.reason().contains(step), view.reason());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    // The slot went back for recycling, or to quarantine when its probe failed.
    assertTrue(("awaitReady".equals(step) ? fakes.quarantined : fakes.recycled).contains("h-1/0"));

    List<String> compensations = activityTypesAfterFailure("frank");
    List<String> expected = switch (step) {
      case "awaitReady" -> List.of("Unclaim");
      case "tagOwner" -> List.of("UntagOwner", "Unclaim");
      case "protectHost" -> List.of("UnprotectHost", "UntagOwner", "Unclaim");
      case "upsertRecord" -> List.of("DeleteRecord", "UnprotectHost", "UntagOwner", "Unclaim");
      case "routeWorkspace" -> List.of("UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner", "Unclaim");
      default -> List.of("DeleteSession", "UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner",
          "Unclaim");
    };
    assertEquals(expected, compensations, "compensations in the history, in reverse order");
  }

  @Test
  void emptyPoolWithoutCapacityRollsBackAfterTheColdStartTimeout() {
    fakes.pool.clear();
    WorkspaceParams p = defaults("gina");
    WorkspaceView first = allocate(p);
    assertEquals(WorkspaceState.PROVISIONING, first.state());
    WorkspaceView end = result("gina");
    assertEquals(WorkspaceState.FAILED, end.state());
    assertTrue(end.reason().contains("cold-start timeout"), end.reason());
    assertTrue(fakes.nothingLeft());
  }

  @Test
  void coldPathClaimsASpareThatJoinsLater() {
    fakes.pool.clear();
    WorkspaceView first = allocate(defaults("hank"));
    assertEquals(WorkspaceState.PROVISIONING, first.state());
    fakes.pool.add("h-9/0");
    client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("hank")).spareAvailable();
    WorkspaceView ready = allocate(defaults("hank"));
    assertEquals(WorkspaceState.READY, ready.state());
    assertEquals("h-9/0", ready.slotId());
    assertTrue(ready.steps().stream().anyMatch(s -> s.step().equals("capacity") && s.status().equals("done")));
  }

  /** Activity types scheduled after the first failed activity, in order. */
  private List<String> activityTypesAfterFailure(String user) {
    WorkflowStub untyped = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user));
    untyped.getResult(WorkspaceView.class);
    List<HistoryEvent> events = client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
    int failedAt = -1;
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED) {
        failedAt = i;
        break;
      }
    }
    return events.subList(failedAt + 1, events.size()).stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
        .toList();
  }
}
