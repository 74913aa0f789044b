package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.ScalingDecision;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The capacity controller under time skipping, against an in-memory fleet and pool. */
class CapacityWorkflowTest {
  /**
   * Set to a directory to record the histories {@link CapacityReplayTest} replays: each test that
   * records writes {@code capacity-<name>.json} there.
   */
  static final String RECORD = System.getProperty("berth.recordCapacityHistories");

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private String firstRunId;

  private CapacityWorkflow start(CapacityFakes fakes, CapacityParams params) {
    env = TestWorkflowEnvironment.newInstance();
    Worker worker = env.newWorker(TaskQueues.BERTH);
    worker.registerWorkflowImplementationTypes(CapacityWorkflowImpl.class);
    worker.registerActivitiesImplementations(fakes);
    env.start();
    client = env.getWorkflowClient();
    CapacityWorkflow wf = client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(CapacityWorkflow.ID).setTaskQueue(TaskQueues.BERTH).build());
    firstRunId = WorkflowClient.start(wf::run, params).getRunId();
    return client.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID);
  }

  /** Lets workflow time pass in 100 ms steps until the condition holds, for at most {@code bound} of it. */
  private void within(Duration bound, BooleanSupplier condition, Supplier<String> what) {
    long end = env.currentTimeMillis() + bound.toMillis();
    while (!condition.getAsBoolean()) {
      assertTrue(env.currentTimeMillis() < end, what);
      env.sleep(Duration.ofMillis(100));
    }
  }

  @AfterEach
  void stop() {
    if (env != null) {
      env.close();
    }
  }

  static CapacityParams params(int spares, int min, int max, int slotsPerHost, int step) {
    return new CapacityParams("demo", spares, min, max, slotsPerHost, step, 10, Duration.ofSeconds(10),
        Duration.ofSeconds(180), Duration.ofSeconds(60), 3, 100, false, CapacityMemory.empty());
  }

  @Test
  void onboardsReplacesDeadSparesScalesOutAndWakesWaiters() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);

    fakes.claim("h-1/0", "alice");
    wf.poke("allocated");
    within(Duration.ofSeconds(5), () -> fakes.desired == 3, () -> "1 active + 2 spares: " + fakes.desiredSet);

    fakes.dead.add("h-2/0");
    within(Duration.ofSeconds(25), () -> fakes.calls.contains("recycleSlot h-2/0"), fakes.calls::toString);

    wf.needCapacity(new CapacityRequest("workspace-bob", "bob", "demo", env.currentTimeMillis()));
    within(Duration.ofSeconds(35), () -> fakes.desired == 4 && fakes.pool.size() == 3,
        () -> "1 active + 2 spares + 1 waiting: " + fakes.desiredSet + ", pool " + fakes.pool);
    CapacityStatus s = wf.status();
    assertEquals(4, s.desired(), "1 active + 2 spares + 1 waiting");
    assertEquals(3, s.sparesReady());
    assertEquals(1, s.provisioning());
    replayAndRecord("passes");
    assertTrue(fakes.calls.contains("passView") && !fakes.calls.contains("describeFleet"), fakes.calls::toString);
  }

  @Test
  void pokedPassesLeaveThePooledSparesUnprobedUntilAnIntervalHasPassed() {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    int probes = fakes.probed.size();
    for (int i = 0; i < 5; i++) {
      pokedPass(fakes, wf);
    }
    assertEquals(probes, fakes.probed.size(), () -> "no spare probed again by the poked passes: " + fakes.probed);

    // A spare that stops answering is still found and replaced by the next interval's pass.
    fakes.unresponsive.add("h-1/0");
    within(Duration.ofSeconds(12), () -> fakes.calls.contains("recycleSlot h-1/0"), fakes.calls::toString);
  }

  /** A saga's protect step lost (or an operator's hand on the group): the controller protects the owned host. */
  @Test
  void anOwnedHostLeftUnprotectedIsProtectedAgainAfterAnInterval() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    fakes.claim("h-1/0", "ada");
    fakes.protectedHosts.remove("h-1");
    pokedPass(fakes, wf);
    assertFalse(fakes.calls.contains("protectHost h-1"), "the saga's own protect step gets an interval to land");

    within(Duration.ofSeconds(12), () -> fakes.protectedHosts.contains("h-1"), fakes.calls::toString);
    assertDecided(wf, d -> d.action().equals("protect-owned"));
    assertEquals(1, fakes.calls.stream().filter(c -> c.startsWith("protectHost")).count(), fakes.calls::toString);
    replayAndRecord("protect-owned");
  }

  /**
   * An owner tag whose workflow is gone (the embedded Temporal lost it mid-allocation): the slot is
   * recycled, untagged, unprotected, and its dead claim dropped, so that it serves as a spare again.
   */
  @Test
  void anOrphansSlotRejoinsThePoolWithoutItsDeadClaim() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    fakes.claim("h-1/0", "gone");
    fakes.claimMarks.add("h-1/0");
    fakes.sessions.remove("gone"); // nothing in the read model, and no workflow "ws-gone" runs
    pokedPass(fakes, wf);
    within(Duration.ofSeconds(12), () -> fakes.pool.contains("h-1/0"), fakes.calls::toString);
    java.util.List<String> calls = fakes.calls.stream().filter(c -> c.contains("h-1/0") || c.endsWith("Owner")
        || c.startsWith("unprotect")).toList();
    assertEquals(java.util.List.of("recycleSlot h-1/0", "untagOwner", "unprotectHost", "forgetClaimOf h-1/0"),
        calls.subList(0, 4));
    assertDecided(wf, d -> d.action().equals("recycle-orphan"));
    assertFalse(fakes.protectedHosts.contains("h-1"));
    replayAndRecord("orphan");
  }

  /**
   * Two sagas claimed a spare each and protected its host, and neither tagged it yet: ada's workflow
   * runs (a slow step), gone's does not (lost with the embedded Temporal). An interval later the
   * controller asks Temporal, undoes the dead claim only, and the slot serves as a spare again.
   */
  @Test
  void aClaimWhoseWorkflowIsGoneIsUndoneAndItsSlotRejoinsThePool() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    for (String user : java.util.List.of("ada", "gone")) {
      String slot = user.equals("ada") ? "h-1/0" : "h-2/0";
      fakes.pool.remove(slot);
      fakes.claims.put(slot, new io.berth.workflows.model.ClaimedSlot(slot, "req-" + user, user));
      fakes.claimMarks.add(slot);
      fakes.protectedHosts.add(slot.split("/")[0]);
    }
    fakes.running.add("ada");
    pokedPass(fakes, wf);
    assertFalse(fakes.calls.stream().anyMatch(c -> c.startsWith("deadClaims")), "a claim gets an interval to be tagged");

    within(Duration.ofSeconds(25), () -> fakes.pool.contains("h-2/0") && !fakes.protectedHosts.contains("h-2"),
        fakes.calls::toString);
    assertFalse(fakes.calls.contains("unclaim req-ada"), fakes.calls::toString);
    assertTrue(fakes.protectedHosts.contains("h-1"), "a running saga's claim holds its host");
    assertDecided(wf, d -> d.action().equals("drop-dead-claims"));
    replayAndRecord("dead-claims");
  }

  /**
   * dan's first run tagged h-2/0 and was lost with the embedded Temporal; dan allocated again and
   * holds h-1/0, which his session names. The left-behind slot is given back; his workspace stays.
   */
  @Test
  void aSlotLeftBehindByALostRunIsGivenBackWhileTheUsersWorkspaceStays() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    fakes.claim("h-1/0", "dan");
    fakes.claim("h-2/0", "dan");
    fakes.sessionSlots.put("dan", "h-1/0");
    pokedPass(fakes, wf);
    within(Duration.ofSeconds(12), () -> fakes.pool.contains("h-2/0"), fakes.calls::toString);
    assertEquals("dan", fakes.hosts.get("h-1")[0]);
    assertTrue(fakes.protectedHosts.contains("h-1"));
    assertFalse(fakes.protectedHosts.contains("h-2"));
    assertDecided(wf, d -> d.reason().contains("left behind"));
    replayAndRecord("left-behind");
  }

  /**
   * Both spares die; giving h-1/0 a fresh process fails every attempt. The pass still recycles
   * h-2/0 and launches the host a new waiter needs, and the failure is there for an operator.
   */
  @Test
  void aFailingActionIsReportedAndTheRestOfThePassStillRuns() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 6, 2);
    CapacityWorkflow wf = twoSpares(fakes);
    fakes.failing.add("recycleSlot h-1/0");
    fakes.dead.addAll(List.of("h-1/0", "h-2/0"));
    wf.needCapacity(new CapacityRequest("workspace-bob", "bob", "demo", env.currentTimeMillis()));
    within(Duration.ofSeconds(5), () -> fakes.calls.contains("recycleSlot h-2/0") && fakes.desired == 3,
        fakes.calls::toString);

    List<String> calls = List.copyOf(fakes.calls);
    int failed = calls.indexOf("recycleSlot h-1/0");
    int scaledOut = calls.indexOf("setDesiredCapacity");
    assertTrue(failed >= 0 && failed < calls.indexOf("recycleSlot h-2/0") && calls.indexOf("recycleSlot h-2/0") < scaledOut,
        calls::toString);
    assertFalse(calls.subList(failed, scaledOut).contains("passView"), () -> "one pass: " + calls);
    assertTrue(calls.subList(failed, scaledOut).stream().filter("recycleSlot h-1/0"::equals).count() > 1,
        () -> "retried before it is given up: " + calls);
    assertDecided(wf, d -> d.action().equals("failed") && d.reason().startsWith("recycle h-1/0"));
    replayAndRecord("failed-action");
  }

  /** The queue and the decisions are the next run's too. */
  @Test
  void theMemoryOutlivesAContinueAsNew() throws Exception {
    CapacityFakes fakes = new CapacityFakes(1, 2, 2);
    CapacityWorkflow wf = start(fakes, new CapacityParams("demo", 2, 2, 2, 1, 2, 10, Duration.ofSeconds(10),
        Duration.ofSeconds(180), Duration.ofSeconds(60), 3, 4, true, CapacityMemory.empty()));
    within(Duration.ofSeconds(5), () -> fakes.pool.size() == 2, () -> "onboarded: " + fakes.pool);
    fakes.dead.add("h-1/0");
    wf.needCapacity(new CapacityRequest("workspace-bob", "bob", "demo", env.currentTimeMillis()));
    within(Duration.ofSeconds(60), () -> passes(fakes) > 4, () -> "a pass of the next run: " + fakes.calls);

    WorkflowExecutionHistory first = client.fetchHistory(CapacityWorkflow.ID, firstRunId);
    assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, first.getLastEvent().getEventType());
    CapacityStatus s = wf.status();
    assertEquals(1, s.provisioning(), "bob still waits (the queue is on, the fleet at its maximum)");
    assertTrue(s.decisions().stream().anyMatch(d -> d.action().equals("replace-spares")), s.decisions()::toString);
    replayAndRecord("continue-as-new", first);
  }

  private static void assertDecided(CapacityWorkflow wf, java.util.function.Predicate<ScalingDecision> which) {
    java.util.List<ScalingDecision> decisions = wf.status().decisions();
    assertTrue(decisions.stream().anyMatch(which), decisions::toString);
  }

  /** Replays the controller's history so far on this code, and records it as {@code name} when asked to. */
  private void replayAndRecord(String name) throws Exception {
    replayAndRecord(name, client.fetchHistory(CapacityWorkflow.ID));
  }

  private static void replayAndRecord(String name, WorkflowExecutionHistory h) throws Exception {
    if (RECORD != null) {
      Files.writeString(Path.of(RECORD, "capacity-" + name + ".json"), h.toJson(true), StandardCharsets.UTF_8);
    }
    WorkflowReplayer.replayWorkflowExecution(h, CapacityWorkflowImpl.class);
  }

  /** Two one-slot hosts, both onboarded as spares. */
  private CapacityWorkflow twoSpares(CapacityFakes fakes) {
    CapacityWorkflow wf = start(fakes, params(2, 2, 6, 1, 2));
    within(Duration.ofSeconds(5), () -> fakes.pool.size() == 2, () -> "both hosts onboarded: " + fakes.pool);
    return wf;
  }

  /** Pokes the controller as an allocation does and waits for the pass it brings. */
  private void pokedPass(CapacityFakes fakes, CapacityWorkflow wf) {
    long passes = passes(fakes);
    wf.poke("allocated");
    within(Duration.ofSeconds(2), () -> passes(fakes) > passes, () -> "a pass for the poke: " + fakes.calls);
  }

  private static long passes(CapacityFakes fakes) {
    synchronized (fakes.calls) {
      return fakes.calls.stream().filter("passView"::equals).count();
    }
  }

  @Test
  void aColdBurstScalesOutByWhatIsWaitingWithoutWaitingForTheCooldown() {
    CapacityFakes fakes = new CapacityFakes(1, 60, 5);
    CapacityWorkflow wf = start(fakes, params(5, 5, 60, 1, 2));
    within(Duration.ofSeconds(5), () -> fakes.pool.size() == 5, () -> "onboarded: " + fakes.pool);
    for (int i = 1; i <= 5; i++) {
      fakes.claim("h-" + i + "/0", "user-" + i);
    }
    long t0 = env.currentTimeMillis();
    for (int i = 0; i < 45; i++) {
      wf.needCapacity(new CapacityRequest("workspace-w" + i, "w" + i, "demo", t0));
    }
    // 5 active + 5 spares + 45 waiting on one-slot hosts: 55, reached 10 at a time (the max step) in
    // seconds; 2 at a time, a pass per 10 s interval, would take minutes.
    within(Duration.ofSeconds(30), () -> fakes.desired == 55, () -> "desired set: " + fakes.desiredSet);
    int previous = 5;
    int largest = 0;
    for (int d : fakes.desiredSet) {
      assertTrue(d - previous <= 10, () -> "steps of at most 10: " + fakes.desiredSet);
      assertTrue(d > previous, () -> "only up: " + fakes.desiredSet);
      largest = Math.max(largest, d - previous);
      previous = d;
    }
    // Not necessarily the first step: a pass may run between the test's first signals (seen under load).
    assertTrue(largest > 2, () -> "a step follows the waiting, not the ordinary 2: " + fakes.desiredSet);
  }

  @Test
  void withoutWaitersTheOrdinaryStepAndCooldownStillApply() {
    CapacityFakes fakes = new CapacityFakes(1, 60, 2);
    start(fakes, params(10, 2, 60, 1, 2));
    within(Duration.ofSeconds(5), () -> !fakes.desiredSet.isEmpty(), () -> "no scale-out");
    assertEquals(4, fakes.desiredSet.get(0), () -> "one step of 2 toward 10 spares: " + fakes.desiredSet);
  }

  @Test
  void deadSparesAreReplacedWithinTheTargetNotOnTopOfIt() {
    // What an earlier run left: seven pooled spares whose processes are dead, two slots tagged by
    // users with no session, and a pooled spare of a host long gone; the target is 2 spares.
    CapacityFakes fakes = new CapacityFakes(3, 4, 3);
    for (String id : List.of("h-1/0", "h-1/1", "h-1/2", "h-2/0", "h-2/1", "h-2/2", "h-3/0")) {
      fakes.pool.add(id);
      fakes.dead.add(id);
    }
    fakes.pool.add("h-90/0");
    fakes.hosts.get("h-3")[1] = "gone-1";
    fakes.hosts.get("h-3")[2] = "gone-2";
    fakes.calls.clear();
    start(fakes, params(2, 0, 4, 3, 2));
    within(Duration.ofSeconds(30), () -> fakes.calls.stream().filter(c -> c.startsWith("recycleSlot")).count() >= 7
        && fakes.pool.size() >= 2, () -> "dead spares replaced: " + fakes.calls + ", pool " + fakes.pool);
    within(Duration.ofSeconds(120), () -> fakes.desired == 1, () -> "scaled in to what 2 spares need: "
        + fakes.desiredSet);
    assertTrue(fakes.desiredSet.stream().allMatch(d -> d <= 3), () -> "nothing launched: " + fakes.desiredSet);
    assertTrue(fakes.pool.size() >= 2 && !fakes.pool.contains("h-90/0"), () -> "pool " + fakes.pool);
  }
}
