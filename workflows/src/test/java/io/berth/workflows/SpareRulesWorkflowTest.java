package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.SpareRules;
import io.berth.workflows.model.SpareSchedule;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A controller whose spares follow its template's rules (schedules, demand), under time skipping
 * against the in-memory fleet: the target each pass sizes for, the decisions that name its rule,
 * and the memo that records it. Histories recorded with {@code -Dberth.recordCapacityHistories}.
 */
class SpareRulesWorkflowTest {
  private static final String ID = CapacityWorkflow.idFor("shell", "demo");

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private String firstRunId;

  @AfterEach
  void stop() {
    if (env != null) {
      env.close();
    }
  }

  private CapacityWorkflow start(CapacityFakes fakes, CapacityParams params) {
    env = TestWorkflowEnvironment.newInstance();
    Worker worker = env.newWorker(TaskQueues.BERTH);
    worker.registerWorkflowImplementationTypes(CapacityWorkflowImpl.class);
    worker.registerActivitiesImplementations(fakes);
    env.start();
    client = env.getWorkflowClient();
    CapacityWorkflow wf = client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(ID).setTaskQueue(TaskQueues.BERTH).build());
    firstRunId = WorkflowClient.start(wf::run, params).getRunId();
    return client.newWorkflowStub(CapacityWorkflow.class, ID);
  }

  /** One one-slot host of the template, up to 20. */
  private static CapacityFakes shellFleet() {
    CapacityFakes fakes = new CapacityFakes(1, 20, 1);
    fakes.template = "shell";
    return fakes;
  }

  /** One-slot hosts up to 20; the rules given; passes every {@code interval}. */
  private static CapacityParams params(SpareRules rules, Duration interval, int iterations) {
    return new CapacityParams("shell", rules.base(), 0, 20, 1, 2, 10, interval, Duration.ofSeconds(180),
        Duration.ofSeconds(60), 3, iterations, false, CapacityMemory.empty(), rules);
  }

  /** Lets workflow time pass in steps of {@code step} until the condition holds, for at most {@code bound}. */
  private void within(Duration bound, Duration step, BooleanSupplier condition, Supplier<String> what) {
    long end = env.currentTimeMillis() + bound.toMillis();
    while (!condition.getAsBoolean()) {
      assertTrue(env.currentTimeMillis() < end, what);
      env.sleep(step);
    }
  }

  private static boolean ruleStartsWith(CapacityWorkflow wf, String prefix) {
    String rule = wf.status().sparesRule();
    return rule != null && rule.startsWith(prefix);
  }

  /**
   * A schedule that starts at the next whole hour (UTC) and ends an hour later: base before, the
   * schedule's count during, base after; the decisions and the memo name the rule each time.
   */
  @Test
  void theTargetFollowsAScheduleAcrossItsStartAndItsEnd() throws Exception {
    CapacityFakes fakes = shellFleet();
    // The test server's clock starts at the system's; two minutes of margin keep the start ahead of it.
    ZonedDateTime startsAt = Instant.now().plus(Duration.ofMinutes(2)).atZone(ZoneOffset.UTC)
        .truncatedTo(ChronoUnit.HOURS).plusHours(1);
    String cron = "* " + startsAt.getHour() + " * * " + startsAt.getDayOfWeek().getValue() % 7;
    SpareRules rules = new SpareRules(1, "UTC", List.of(new SpareSchedule("busy", cron, 3)), null);
    CapacityWorkflow wf = start(fakes, params(rules, Duration.ofMinutes(5), 100));
    long start = startsAt.toInstant().toEpochMilli();
    long end = start + Duration.ofHours(1).toMillis();
    assertTrue(env.currentTimeMillis() < start - Duration.ofMinutes(1).toMillis(), "the test begins before the schedule");

    within(Duration.ofSeconds(5), Duration.ofMillis(100), () -> fakes.pool.size() == 1, () -> "onboarded: " + fakes.pool);
    CapacityStatus before = wf.status();
    assertEquals("shell", before.template());
    assertEquals(1, before.sparesTarget());
    assertEquals("base 1", before.sparesRule());
    assertTrue(fakes.poolsSized.isEmpty() && fakes.desired == 1, "one spare, one host: nothing to size yet");

    within(Duration.ofMillis(end - env.currentTimeMillis()), Duration.ofMinutes(1),
        () -> ruleStartsWith(wf, "schedule"), () -> "the schedule's rule by its end: " + wf.status());
    assertTrue(env.currentTimeMillis() >= start, "not before the schedule's start");
    assertEquals(3, wf.status().sparesTarget());
    String scheduleRule = "schedule 'busy' (" + cron + " UTC) 3";
    assertEquals(scheduleRule, wf.status().sparesRule());
    within(Duration.ofMinutes(1), Duration.ofSeconds(5), () -> fakes.desired == 3, fakes.desiredSet::toString);
    assertDecided(wf, d -> d.action().equals("target") && d.reason().equals(scheduleRule));
    assertDecided(wf, d -> d.action().equals("scale-out") && d.reason().contains("3 spares by " + scheduleRule));
    assertEquals(List.of("shell"), List.copyOf(fakes.poolsSized), "the template's own group is sized");
    assertEquals(scheduleRule, memo(CapacityWorkflowImpl.MEMO_RULE));

    within(Duration.ofMillis(end + Duration.ofMinutes(10).toMillis() - env.currentTimeMillis()), Duration.ofMinutes(1),
        () -> ruleStartsWith(wf, "base"), () -> "base again after the schedule's end: " + wf.status());
    assertTrue(env.currentTimeMillis() >= end, "not before the schedule's end");
    assertEquals(1, wf.status().sparesTarget());
    within(Duration.ofMinutes(15), Duration.ofMinutes(1), () -> fakes.desired == 1,
        () -> "scaled in to one spare: " + fakes.desiredSet);
    assertDecided(wf, d -> d.action().equals("scale-in") && d.reason().contains("1 spares by base 1"));
    assertEquals(List.of("base 1", scheduleRule, "base 1"), memoRules());
    replayAndRecord("schedule", client.fetchHistory(ID));
  }

  /**
   * A burst of requests that found the pool empty raises the next pass's target (the needCapacity
   * signals bring it at once), named "demand"; with no claim and no miss for an hour it is the
   * base again. The run continues as new meanwhile: the misses are carried in its memory.
   */
  @Test
  void aBurstOfMissesRaisesTheTargetAndItDecaysToTheBase() throws Exception {
    CapacityFakes fakes = shellFleet();
    SpareRules rules = new SpareRules(1, "UTC", List.of(), new DemandRule(Duration.ofMinutes(5), 10));
    CapacityWorkflow wf = start(fakes, params(rules, Duration.ofSeconds(60), 6));
    within(Duration.ofSeconds(5), Duration.ofMillis(100), () -> fakes.pool.size() == 1, () -> "onboarded: " + fakes.calls + fakes.probed);
    assertEquals("base 1", wf.status().sparesRule());

    long burstAt = env.currentTimeMillis();
    for (int i = 0; i < 6; i++) {
      wf.needCapacity(new CapacityRequest("workspace-w" + i, "w" + i, "shell", burstAt));
    }
    wf.needCapacity(new CapacityRequest("workspace-w0", "w0", "shell", burstAt)); // re-sent: not another miss
    within(Duration.ofSeconds(2), Duration.ofMillis(100), () -> ruleStartsWith(wf, "demand 6:"),
        () -> "six misses, six spares, within a pass: " + wf.status());
    assertEquals(6, wf.status().sparesTarget());
    assertDecided(wf, d -> d.action().equals("target") && d.reason().startsWith("demand 6: 0 claims in 5 min"));
    for (int i = 0; i < 6; i++) {
      wf.cancelNeed("workspace-w" + i); // they claimed the spares the scale-out brought
    }

    env.sleep(Duration.ofMinutes(4));
    assertTrue(ruleStartsWith(wf, "demand 6:"), () -> "misses count for 5 minutes: " + wf.status());
    within(Duration.ofMinutes(61), Duration.ofMinutes(1), () -> ruleStartsWith(wf, "base 1"),
        () -> "the base again: " + wf.status());
    assertTrue(env.currentTimeMillis() - burstAt >= Duration.ofMinutes(5).toMillis(), "misses count 5 minutes");
    assertEquals(1, wf.status().sparesTarget());
    WorkflowExecutionHistory first = client.fetchHistory(ID, firstRunId);
    assertEquals(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, first.getLastEvent().getEventType(),
        "the decay outlived a run");
    replayAndRecord("demand", first);
  }

  /** Claims the store counted since the last pass raise the target at the next pass. */
  @Test
  void claimsCountedByTheStoreRaiseTheTarget() {
    CapacityFakes fakes = shellFleet();
    fakes.claimsTotal = 40; // counted before this controller ran: not its demand
    SpareRules rules = new SpareRules(1, "UTC", List.of(), new DemandRule(Duration.ofMinutes(5), 10));
    CapacityWorkflow wf = start(fakes, params(rules, Duration.ofSeconds(10), 100));
    within(Duration.ofSeconds(5), Duration.ofMillis(100), () -> fakes.pool.size() == 1, () -> "onboarded: " + fakes.calls + fakes.probed);
    assertEquals("base 1", wf.status().sparesRule());

    fakes.claimsTotal = 44;
    wf.poke("allocated");
    within(Duration.ofSeconds(2), Duration.ofMillis(100), () -> ruleStartsWith(wf, "demand 4:"),
        () -> "4 claims in 5 minutes over a 5-minute horizon: " + wf.status());
    assertTrue(wf.status().sparesRule().contains("4 claims in 5 min"), wf.status()::sparesRule);
    within(Duration.ofSeconds(30), Duration.ofMillis(100), () -> fakes.desired == 4, fakes.desiredSet::toString);
  }

  private String memo(String key) {
    return (String) client.newUntypedWorkflowStub(ID).describe().getMemo(key, String.class);
  }

  /** The rules the run wrote to its memo, in order. */
  private List<String> memoRules() {
    return client.fetchHistory(ID).getEvents().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
        .map(SpareRulesWorkflowTest::ruleOf).toList();
  }

  private static String ruleOf(HistoryEvent e) {
    var payload = e.getWorkflowPropertiesModifiedEventAttributes().getUpsertedMemo().getFieldsMap()
        .get(CapacityWorkflowImpl.MEMO_RULE);
    return DefaultDataConverter.STANDARD_INSTANCE.fromPayload(payload, String.class, String.class);
  }

  private static void assertDecided(CapacityWorkflow wf, java.util.function.Predicate<ScalingDecision> which) {
    List<ScalingDecision> decisions = wf.status().decisions();
    assertTrue(decisions.stream().anyMatch(which), decisions::toString);
  }

  private static void replayAndRecord(String name, WorkflowExecutionHistory h) throws Exception {
    if (CapacityWorkflowTest.RECORD != null) {
      Files.writeString(Path.of(CapacityWorkflowTest.RECORD, "capacity-" + name + ".json"), h.toJson(true),
          StandardCharsets.UTF_8);
    }
    WorkflowReplayer.replayWorkflowExecution(h, CapacityWorkflowImpl.class);
  }
}
