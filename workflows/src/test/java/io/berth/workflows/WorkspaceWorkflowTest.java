package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.Placement;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.util.ArrayList;
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
  private FakeReclaim reclaim;
  private WorkspaceRuns runs;

  @BeforeEach
  void start() {
    WorkspaceRuns runs = new WorkspaceRuns(TestWorkflowEnvironment.newInstance());
    env = runs.env;
    client = runs.client;
    fakes = runs.fakes;
    reclaim = runs.reclaim;
    this.runs = runs;
  }

  /** Where placement runs; {@link InTaskPlacementWorkflowTest} runs every test with it in the workflow task. */
  Placement placement() {
    return Placement.ACTIVITIES;
  }

  @AfterEach
  void stop() {
    env.close();
  }

  static WorkspaceParams defaults(String user) {
    String label = Labels.labelFor(user);
    return new WorkspaceParams(user, label, label + ".localhost", "http://" + label + ".localhost:8088/", "demo",
        Duration.ofMinutes(30), Duration.ofHours(12), Duration.ofMinutes(5), Duration.ofSeconds(10), null, null);
  }

  WorkspaceView allocate(WorkspaceParams requested) {
    return runs.allocate(requested.withPlacement(placement()));
  }

  record HeldArmed(WorkspaceView ready, java.util.concurrent.CompletableFuture<WorkspaceView> ended) {}

  /**
   * Allocates with the defaults and waits until the workflow has armed its reclaim, which the
   * fake then holds (until {@code reclaim.gate} opens) with the clock inside the armed window.
   */
  private HeldArmed allocateAndHoldArmed(String user) throws InterruptedException {
    reclaim.gate = new java.util.concurrent.CountDownLatch(1);
    WorkspaceView ready = allocate(defaults(user));
    var ended = resultInBackground(user);
    assertTrue(reclaim.armed.await(60, java.util.concurrent.TimeUnit.SECONDS));
    return new HeldArmed(ready, ended);
  }

  /** Time skips only while a client waits on a result: this one waits on another thread. */
  private java.util.concurrent.CompletableFuture<WorkspaceView> resultInBackground(String user) {
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> result(user));
  }

  private WorkspaceView result(String user) {
    return runs.result(user);
  }

  @Test
  void defaultIdleTimeoutReclaimsAfterThirtyMinutesWithoutHeartbeats() {
    WorkspaceView ready = allocate(defaults("alice"));
    assertEquals(WorkspaceState.READY, ready.state());
    assertEquals(1800, ready.idleTimeoutSeconds());
    // The workflow's own clock: the test's reading after allocate() can trail it by the real time
    // the call took, which time skipping turns into a reclaim that looks early.
    long start = ready.allocatedAtMillis();

    WorkspaceView end = result("alice");

    assertEquals(WorkspaceState.RELEASED, end.state());
    assertEquals("idle", end.reason());
    long waited = completedAt("alice") - start;
    assertTrue(waited >= Duration.ofMinutes(30).toMillis() && waited < Duration.ofMinutes(31).toMillis(),
        "reclaimed after " + waited + " ms");
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    assertTrue(fakes.recycled.contains("h-1/0"));
  }

  @Test
  void aWarmAllocationPokesTheControllerThroughTheWorkerAfterItsSessionAndAgainAtTheEnd() {
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("pia"));
    assertEquals(WorkspaceState.READY, allocate(defaults("pia")).state());
    assertEquals(List.of("allocated"), fakes.pokes);
    wf.release("user");
    result("pia");
    assertEquals(List.of("allocated", "released"), fakes.pokes);
    List<HistoryEvent> events = history("pia");
    assertTrue(events.stream().noneMatch(e -> e.getEventType()
        == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), "no signal from the workflow itself");
  }

  @Test
  void aWarmAllocationAnswersWithoutATimerAndAColdOneAfterTheAllocateWait() {
    allocate(defaults("tim"));
    List<HistoryEvent> events = history("tim");
    // The update's bound timer would start as it is accepted; the active loop's idle timer comes
    // only after the session, and may come before the answer.
    int accepted = indexOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, 0);
    int session = indexOfScheduled(events, "StoreSession");
    assertTrue(accepted >= 0 && session > accepted, "update accepted, then the session");
    assertTrue(events.subList(accepted, session).stream()
        .noneMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED), "no timer for the answer");

    fakes.pool.clear();
    WorkspaceView cold = allocate(defaults("cole"));
    assertEquals(WorkspaceState.PROVISIONING, cold.state());
    assertTrue(history("cole").stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED),
        "the cold start's answer came from the allocate wait's timer");
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
        Duration.ofHours(1), p.coldStartTimeout(), p.allocateWait(), null, null);
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
    wf.beat(env.currentTimeMillis());
    // Redis lost the session and the route: a resync writes both again.
    fakes.sessions.clear();
    fakes.routes.clear();
    wf.resync();
    Await.until("session and route written again", Duration.ofSeconds(30),
        () -> fakes.sessions.containsKey("erin") && fakes.routes.contains(Labels.labelFor("erin")));
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

  @Test
  void theArmedReclaimTakesTheRouteAtTheDeadlineThenTheTeardownRuns() {
    WorkspaceView ready = allocate(defaults("arnold"));
    long deadline = ready.idleDeadlineMillis();
    long lead = defaults("arnold").armedLead().toMillis();
    assertEquals(30_000, lead, "min(idle / 3, 30 s) at a 30 min idle timeout");

    WorkspaceView end = result("arnold");

    assertEquals("idle", end.reason());
    assertEquals(deadline, reclaim.armedDeadline);
    // Armed a lead ahead, never earlier; later by as long as the allocation's workflow task ran
    // (the workflow's clock stands still within a task, and a loaded machine stretches it): what
    // matters is that the armed call waits at the deadline before it comes.
    assertTrue(reclaim.armedAt >= deadline - lead - 1_000 && reclaim.armedAt < deadline - lead / 2,
        "armed " + (deadline - reclaim.armedAt) + " ms before the deadline");
    assertTrue(reclaim.decidedAt >= deadline && reclaim.decidedAt < deadline + 1_000,
        "decided " + (reclaim.decidedAt - deadline) + " ms after the deadline");
    assertEquals(1, reclaim.calls);
    // The route went with the armed call; the teardown's unroute found nothing left to do.
    int armedAt = fakes.calls.indexOf("reclaimAt:reclaimed");
    assertTrue(armedAt >= 0 && armedAt < fakes.calls.lastIndexOf("unrouteWorkspace"), fakes.calls::toString);
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    List<HistoryEvent> events = client.fetchHistory(WorkspaceWorkflow.idFor("arnold")).getEvents();
    assertTrue(events.stream().anyMatch(e -> e.hasActivityTaskScheduledEventAttributes()
        && "ReclaimAt".equals(e.getActivityTaskScheduledEventAttributes().getActivityType().getName())));
  }

  /** An armed reclaim that fails for good is not armed again: the idle timer reclaims, once. */
  @Test
  void anArmedReclaimThatFailsForGoodFallsBackToTheIdleTimer() throws Exception {
    reclaim.refuse = true;
    WorkspaceView ready = allocate(defaults("fern"));
    WorkspaceView end = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor("fern"))
        .getResultAsync(WorkspaceView.class).get(60, java.util.concurrent.TimeUnit.SECONDS);

    assertEquals("idle", end.reason());
    assertEquals(ready.idleDeadlineMillis(), end.idleDeadlineMillis());
    assertEquals(1, reclaim.calls, "armed once, then the timer path");
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
  }

  @Test
  void activityRecordedDuringTheArmedWindowKeepsTheWorkspace() throws Exception {
    HeldArmed run = allocateAndHoldArmed("bea");
    long deadline = run.ready().idleDeadlineMillis();
    var ended = run.ended();
    // Armed, the clock stands before the deadline: a coalesced heartbeat reaches Redis only.
    long beat = env.currentTimeMillis();
    assertTrue(beat < deadline && beat >= deadline - 30_000, "inside the armed window");
    fakes.lastActivity = beat;
    reclaim.gate.countDown();

    WorkspaceView end = ended.get(60, java.util.concurrent.TimeUnit.SECONDS);

    assertEquals("idle", end.reason());
    assertEquals(2, reclaim.calls, "kept once, reclaimed at the next deadline");
    assertEquals(beat + Duration.ofMinutes(30).toMillis(), end.idleDeadlineMillis());
    assertTrue(reclaim.decidedAt >= end.idleDeadlineMillis());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    if (System.getenv("BERTH_WRITE_HISTORY") != null) {
      java.nio.file.Files.writeString(java.nio.file.Path.of(System.getenv("BERTH_WRITE_HISTORY")),
          client.fetchHistory(WorkspaceWorkflow.idFor("bea")).toJson(true));
    }
  }

  @Test
  void anExtendDuringTheArmedWindowKeepsTheWorkspace() throws Exception {
    HeldArmed run = allocateAndHoldArmed("cleo");
    long deadline = run.ready().idleDeadlineMillis();
    var ended = run.ended();
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("cleo"));
    WorkspaceView extended = wf.extend(3600);
    assertTrue(extended.idleDeadlineMillis() > deadline + 3_000_000);
    // Recorded where the armed call looks before the workflow moved its own deadline.
    assertTrue(reclaim.holds.containsValue(extended.idleDeadlineMillis()), reclaim.holds::toString);
    reclaim.gate.countDown();

    // (No env.sleep here: two clients skipping time at once while an activity sleeps unbalances the
    // test server's time lock.) The first armed call kept it, the second reclaimed it an hour later.
    WorkspaceView end = ended.get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals("idle", end.reason());
    assertEquals(2, reclaim.calls, "kept at the old deadline, reclaimed at the extended one");
    assertEquals(extended.idleDeadlineMillis(), end.idleDeadlineMillis());
    assertTrue(reclaim.decidedAt >= extended.idleDeadlineMillis());
  }

  @Test
  void aReleaseDuringTheArmedWindowTearsDownWithoutWaitingForTheDeadline() throws Exception {
    var ended = allocateAndHoldArmed("dora").ended();
    client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("dora")).release("user");
    WorkspaceView end = ended.get(60, java.util.concurrent.TimeUnit.SECONDS);
    reclaim.gate.countDown();
    assertEquals("released by user", end.reason());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
  }

  /**
   * Probe, tag, protect, DNS and route start together, so whichever fails, all five were started
   * and all five are undone (in reverse order of registration), then the claim.
   */
  @ParameterizedTest
  @ValueSource(strings = {"awaitReady", "tagOwner", "protectHost", "upsertRecord", "routeWorkspace", "storeSession"})
  void eachFailingStepUndoesEveryStartedStep(String step) {
    fakes.failing = step;
    WorkspaceView view = allocate(defaults("frank"));
    assertEquals(WorkspaceState.FAILED, view.state());
    assertTrue(view.reason().contains(step), view.reason());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    // The slot went back for recycling, or to quarantine when its probe failed.
    assertTrue(("awaitReady".equals(step) ? fakes.quarantined : fakes.recycled).contains("h-1/0"));
    assertEquals("awaitReady".equals(step), fakes.quarantined.contains("h-1/0"));

    // Local activities' markers are written in completion order: a placement step that ended after
    // the failed one is recorded after it, without being scheduled after it.
    List<String> compensations = activityTypesAfterFailure("frank").stream()
        .filter(a -> !PLACEMENT_STEPS.contains(a)).toList();
    List<String> sideBySide = List.of("UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner", "Unclaim");
    List<String> expected = new ArrayList<>(sideBySide);
    if (step.equals("storeSession")) {
      expected.add(0, "DeleteSession");
    }
    assertEquals(expected, compensations, "compensations in the history, in reverse order");
  }

  static final List<String> PLACEMENT_STEPS = List.of("AwaitReady", "TagOwner", "ProtectHost", "UpsertRecord",
      "RouteWorkspace");

  @Test
  void placementStepsStartTogetherAndProgressKeepsItsOrder() {
    WorkspaceView ready = allocate(defaults("pia"));
    assertEquals(WorkspaceState.READY, ready.state());
    List<String> names = ready.steps().stream().map(s -> s.step() + ":" + s.status()).toList();
    assertEquals(List.of("claim:running", "claim:done", "probe:running", "tag:running", "protect:running",
        "dns:running", "route:running"), names.subList(0, 7), names.toString());
    assertEquals(List.of("session:running", "session:done", "ready:done"), names.subList(names.size() - 3, names.size()));
    for (String step : List.of("probe", "tag", "protect", "dns", "route")) {
      assertTrue(names.contains(step + ":done"), step + " done in " + names);
    }
    // One workflow task started all five: they are scheduled back to back in the history.
    // Regular activities are scheduled in call order; local ones are recorded as they end.
    List<String> scheduled = scheduledActivities("pia");
    assertEquals("ClaimSpare", scheduled.get(0));
    assertEquals(java.util.Set.copyOf(PLACEMENT_STEPS), java.util.Set.copyOf(scheduled.subList(1, 6)));
    assertEquals("StoreSession", scheduled.get(6));
    List<HistoryEvent> events = history("pia");
    int first = PLACEMENT_STEPS.stream().mapToInt(a -> indexOfScheduled(events, a)).min().orElseThrow();
    int last = PLACEMENT_STEPS.stream().mapToInt(a -> indexOfScheduled(events, a)).max().orElseThrow();
    assertTrue(events.subList(first, last).stream()
        .noneMatch(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED), "one task started them");
  }

  @Test
  void aSlowStepSettlesBeforeAnyCompensationRuns() {
    fakes.held = "routeWorkspace";
    fakes.failing = "tagOwner";
    WorkspaceParams params = defaults("sam").withPlacement(placement());
    WorkflowClient.start(workflowStub(params)::run, params);
    // The tag failed and the workflow has had a task since: a saga that did not wait would have
    // scheduled its compensations in that task, with the route still running.
    Await.until("the tag failure handled by a workflow task", Duration.ofSeconds(30), () -> {
      List<HistoryEvent> events = history("sam");
      int failed = indexOfFailure(events);
      return failed >= 0 && indexOf(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, failed) >= 0;
    });
    assertTrue(scheduledActivities("sam").stream().noneMatch(a -> a.startsWith("Un") || a.equals("DeleteRecord")),
        () -> "compensation while the route was in flight: " + scheduledActivities("sam"));
    assertTrue(fakes.calls.stream().noneMatch(c -> c.startsWith("un")), fakes.calls::toString);

    fakes.letHeldGo();
    WorkspaceView end = result("sam");
    assertEquals(WorkspaceState.FAILED, end.state());
    assertTrue(end.reason().contains("tagOwner"), end.reason());
    assertTrue(fakes.nothingLeft(), () -> "left: " + fakes.leftovers());
    List<HistoryEvent> events = history("sam");
    int routed = indexOfEnd(events, "RouteWorkspace");
    int firstUndo = indexOfScheduled(events, "UnrouteWorkspace");
    assertTrue(routed >= 0 && routed < firstUndo, "the undo scheduled after the route ended: " + routed + " " + firstUndo);
  }

  @Test
  void aLateBeatCountsFromItsOwnTimeNotFromWhenItArrives() {
    WorkspaceView ready = allocate(defaults("lea"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("lea"));
    long beatAt = ready.allocatedAtMillis() + Duration.ofMinutes(5).toMillis();
    env.sleep(Duration.ofMinutes(20));
    wf.beat(beatAt); // sent at minute 5, arrives at minute 20
    WorkspaceView end = result("lea");
    assertEquals("idle", end.reason());
    assertEquals(beatAt + Duration.ofMinutes(30).toMillis(), end.idleDeadlineMillis());
    long endedAfter = completedAt("lea") - ready.allocatedAtMillis();
    assertTrue(endedAfter >= Duration.ofMinutes(35).toMillis() && endedAfter < Duration.ofMinutes(36).toMillis(),
        "reclaimed " + endedAfter + " ms after allocation");
  }

  @Test
  void aBeatNeitherShortensAnExtendNorPassesTheMaxLifetime() {
    WorkspaceParams p = defaults("max");
    p = new WorkspaceParams(p.user(), p.label(), p.hostname(), p.url(), p.template(), Duration.ofMinutes(30),
        Duration.ofMinutes(45), p.coldStartTimeout(), p.allocateWait(), null, null);
    WorkspaceView ready = allocate(p);
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("max"));
    WorkspaceView extended = wf.extend(40 * 60);
    wf.beat(env.currentTimeMillis());
    assertEquals(extended.idleDeadlineMillis(), wf.view().idleDeadlineMillis(), "the extend stays");
    env.sleep(Duration.ofMinutes(30));
    wf.beat(env.currentTimeMillis());
    assertEquals(ready.expiresAtMillis(), wf.view().idleDeadlineMillis(), "capped at the max lifetime");
    assertEquals("max lifetime reached", result("max").reason());
  }

  @Test
  void aBeatFromTheFutureIsIgnoredAndOneWithinTheSkewCountsAsNow() {
    WorkspaceView ready = allocate(defaults("fay"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("fay"));
    long idle = Duration.ofMinutes(30).toMillis();
    wf.beat(env.currentTimeMillis() + WorkspaceWorkflowImpl.MAX_BEAT_SKEW_MILLIS + 60_000);
    long nearFuture = env.currentTimeMillis() + WorkspaceWorkflowImpl.MAX_BEAT_SKEW_MILLIS - 1_000;
    wf.beat(nearFuture);
    WorkspaceView end = result("fay");
    assertEquals("idle", end.reason());
    // Had the first beat counted, the deadline would be a minute further; the second is clamped to
    // the moment it was handled.
    assertTrue(end.idleDeadlineMillis() >= ready.idleDeadlineMillis(), end.toString());
    assertTrue(end.idleDeadlineMillis() < nearFuture + idle, end.idleDeadlineMillis() - nearFuture - idle + " ms over");
  }

  @Test
  void aResyncWritesTheSessionAndTheRouteAgain() {
    allocate(defaults("rex"));
    fakes.sessions.clear();
    fakes.routes.clear();
    client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("rex")).resync();
    Await.until("session and route back", Duration.ofSeconds(30),
        () -> fakes.sessions.containsKey("rex") && fakes.routes.contains(Labels.labelFor("rex")));
  }

  /**
   * The controller read the fleet while the saga was in flight (tagged, no session yet) and asks
   * after READY: the session is intact, so it is not written again (a new token would lock the slot out).
   */
  @Test
  void aResyncLeavesAnIntactSessionAsItIs() {
    allocate(defaults("ria"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("ria"));
    long stored = fakes.calls.stream().filter("storeSession"::equals).count();
    wf.resync();
    Await.until("the resync's route step", Duration.ofSeconds(30),
        () -> fakes.calls.stream().filter("routeWorkspace"::equals).count() == 2);
    assertTrue(fakes.calls.contains("restoreSession"), fakes.calls::toString);
    assertEquals(stored, fakes.calls.stream().filter("storeSession"::equals).count(), fakes.calls::toString);
  }

  @Test
  void aResyncThatFailsLeavesTheWorkspaceRunningAndIsTriedAgain() {
    allocate(defaults("ray"));
    WorkspaceWorkflow wf = client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("ray"));
    fakes.routes.clear();
    fakes.failing = "routeWorkspace";
    wf.resync();
    Await.until("the failed resync route", Duration.ofSeconds(30),
        () -> fakes.calls.stream().filter("routeWorkspace"::equals).count() == 2);
    assertEquals(WorkspaceState.READY, wf.view().state());
    fakes.failing = null;
    // Nobody signals again: the workspace tries once more by itself after RESYNC_RETRY.
    env.sleep(WorkspaceWorkflowImpl.RESYNC_RETRY.plusSeconds(1));
    Await.until("the route written by the retry", Duration.ofSeconds(30),
        () -> fakes.routes.contains(Labels.labelFor("ray")));
    wf.release("user");
    assertEquals("released by user", result("ray").reason());
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

  private WorkspaceWorkflow workflowStub(WorkspaceParams params) {
    return client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(params.user()))
        .setTaskQueue(TaskQueues.BERTH)
        .build());
  }

  /**
   * When the run completed, by the server's clock: after a result, time skipping may move the
   * environment's clock on to the next timer anywhere in the test server (once seen: 10 years on).
   */
  long completedAt(String user) {
    HistoryEvent done = history(user).stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).findFirst().orElseThrow();
    return done.getEventTime().getSeconds() * 1000 + done.getEventTime().getNanos() / 1_000_000;
  }

  List<HistoryEvent> history(String user) {
    return client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
  }

  private List<String> scheduledActivities(String user) {
    return HistorySteps.activityTypes(history(user));
  }

  private static int indexOf(List<HistoryEvent> events, EventType type, int from) {
    for (int i = Math.max(0, from); i < events.size(); i++) {
      if (events.get(i).getEventType() == type) {
        return i;
      }
    }
    return -1;
  }

  /** Where an activity was scheduled, or a local one recorded. */
  private static int indexOfScheduled(List<HistoryEvent> events, String activityType) {
    for (int i = 0; i < events.size(); i++) {
      if (HistorySteps.activityType(events.get(i)).filter(activityType::equals).isPresent()) {
        return i;
      }
    }
    return -1;
  }

  /** Where an activity ended: its completed event, or a local one's marker (written when it ended). */
  private static int indexOfEnd(List<HistoryEvent> events, String activityType) {
    int at = indexOfScheduled(events, activityType);
    if (at < 0 || events.get(at).getEventType() != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      return at;
    }
    long scheduledId = events.get(at).getEventId();
    for (int i = at; i < events.size(); i++) {
      if (events.get(i).getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
          && events.get(i).getActivityTaskCompletedEventAttributes().getScheduledEventId() == scheduledId) {
        return i;
      }
    }
    return -1;
  }

  /** The first failed activity, regular or local. */
  private static int indexOfFailure(List<HistoryEvent> events) {
    for (int i = 0; i < events.size(); i++) {
      HistoryEvent e = events.get(i);
      boolean localFailed = HistorySteps.localActivityType(e).isPresent() && e.getMarkerRecordedEventAttributes().hasFailure();
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED || localFailed) {
        return i;
      }
    }
    return -1;
  }

  /** Activity types scheduled after the first failed activity (regular or local), in order. */
  private List<String> activityTypesAfterFailure(String user) {
    WorkflowStub untyped = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user));
    untyped.getResult(WorkspaceView.class);
    List<HistoryEvent> events = client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
    int failedAt = indexOfFailure(events);
    return HistorySteps.activityTypes(events.subList(failedAt + 1, events.size()));
  }
}
