package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.uber.m3.tally.Buckets;
import com.uber.m3.tally.Capabilities;
import com.uber.m3.tally.CapableOf;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import com.uber.m3.tally.StatsReporter;
import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerFactoryOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The workspace workflow counts compensations, reclaims and probe failures on the SDK's metrics
 * scope, once each, although every workflow task replays the whole history (no workflow cache).
 */
class WorkflowCountersTest {
  private final Map<String, AtomicLong> counted = new ConcurrentHashMap<>();
  private Scope scope;
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeActivities fakes;
  private WorkspaceRuns runs;

  @BeforeEach
  void start() {
    // Only the closing report (flush()) counts: a periodic one still running on tally's thread while
    // the scope closes could hand its counts over after the assertions read them (seen once in CI).
    scope = new RootScopeBuilder().reporter(new Collecting()).reportEvery(com.uber.m3.util.Duration.ofSeconds(3600));
    env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setMetricsScope(scope)
        .setWorkerFactoryOptions(WorkerFactoryOptions.newBuilder().setWorkflowCacheSize(0).build())
        .build());
    runs = new WorkspaceRuns(env);
    client = runs.client;
    fakes = runs.fakes;
  }

  @AfterEach
  void stop() {
    env.close();
  }

  private WorkspaceView allocate(String user) {
    return runs.allocate(WorkspaceWorkflowTest.defaults(user));
  }

  private WorkspaceView end(String user) {
    return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).getResult(WorkspaceView.class);
  }

  /** Closing the scope makes its last report. */
  private void flush() {
    try {
      scope.close();
    } catch (com.uber.m3.tally.ScopeCloseException e) {
      throw new IllegalStateException(e);
    }
  }

  private long count(Counter c, String value) {
    AtomicLong n = counted.get(BerthCounters.field(c, value).orElseThrow());
    return n == null ? 0 : n.get();
  }

  @Test
  void aRouteFailureCountsEachCompensationThatRanOnce() {
    fakes.failing = "routeWorkspace";
    assertEquals(WorkspaceState.FAILED, allocate("frank").state());
    end("frank");
    flush();
    for (String step : new String[] {"claim", "tag", "protect", "dns", "route"}) {
      assertEquals(1, count(Counter.SAGA_COMPENSATIONS, step), step + " in " + counted);
    }
    assertEquals(0, count(Counter.SAGA_COMPENSATIONS, "session"), counted.toString());
    assertEquals(0, count(Counter.RECLAIMS, "released"), "a rollback is not a reclaim");
  }

  @Test
  void aProbeThatNeverPassesCountsAFailureAndUndoesTheStepsStartedBesideIt() {
    fakes.failing = "awaitReady";
    allocate("paula");
    end("paula");
    flush();
    assertEquals(1, count(Counter.PROBE_FAILURES, "allocate"), counted.toString());
    // Tag, protect, DNS and route ran beside the probe: each is undone once, the claim too.
    for (String step : new String[] {"claim", "tag", "protect", "dns", "route"}) {
      assertEquals(1, count(Counter.SAGA_COMPENSATIONS, step), step + " in " + counted);
    }
    assertEquals(0, count(Counter.SAGA_COMPENSATIONS, "session"), counted.toString());
  }

  @Test
  void aReleaseCountsAReclaimWithItsReason() {
    allocate("erin");
    client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor("erin")).release("user");
    assertEquals("released by user", end("erin").reason());
    flush();
    assertEquals(Map.of(BerthCounters.field(Counter.RECLAIMS, "released").orElseThrow(), 1L), snapshot());
  }

  @Test
  void anIdleTimeoutCountsAReclaimWithItsReason() {
    allocate("ivy");
    assertEquals("idle", end("ivy").reason());
    flush();
    assertEquals(Map.of(BerthCounters.field(Counter.RECLAIMS, "idle").orElseThrow(), 1L), snapshot());
  }

  private Map<String, Long> snapshot() {
    Map<String, Long> m = new java.util.TreeMap<>();
    counted.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  @Test
  void reasonsMapToTheirTagValues() {
    assertEquals("idle", BerthCounters.reclaimReason("idle"));
    assertEquals("max_lifetime", BerthCounters.reclaimReason("max lifetime reached"));
    assertEquals("released", BerthCounters.reclaimReason("released by admin"));
    assertEquals("released", BerthCounters.reclaimReason(null));
    assertTrue(BerthCounters.field(Counter.RECLAIMS, "bogus").isEmpty());
    assertTrue(BerthCounters.field(Counter.HOSTS_QUARANTINED, "x").isEmpty());
    assertEquals("berth_hosts_quarantined", BerthCounters.field(Counter.HOSTS_QUARANTINED, null).orElseThrow());
  }

  /** Keeps berth_* counters by their Redis field, the way the worker's reporter names them. */
  private final class Collecting implements StatsReporter {
    @Override
    public void reportCounter(String name, Map<String, String> tags, long value) {
      BerthCounters.Counter.byMetric(name)
          .flatMap(c -> BerthCounters.field(c, c.tag() == null ? null : tags.get(c.tag())))
          .ifPresent(f -> counted.computeIfAbsent(f, k -> new AtomicLong()).addAndGet(value));
    }

    @Override
    public void reportGauge(String name, Map<String, String> tags, double value) {}

    @Override
    public void reportTimer(String name, Map<String, String> tags, com.uber.m3.util.Duration interval) {}

    @Override
    public void reportHistogramValueSamples(String name, Map<String, String> tags, Buckets buckets,
                                            double lower, double upper, long samples) {}

    @Override
    public void reportHistogramDurationSamples(String name, Map<String, String> tags, Buckets buckets,
                                               com.uber.m3.util.Duration lower, com.uber.m3.util.Duration upper,
                                               long samples) {}

    @Override
    public Capabilities capabilities() {
      return CapableOf.REPORTING_TAGGING;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
