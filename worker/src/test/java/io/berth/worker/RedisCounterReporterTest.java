package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import com.uber.m3.tally.ScopeCloseException;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.RedisKeys;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** A real Tally scope reporting into a private Redis, the way the worker's SDK scope does. */
class RedisCounterReporterTest {
  private final RedisKeys keys = new RedisKeys("t:");
  private PrivateRedis server;
  private RedisClient redis;
  private RedisCounterReporter reporter;

  @BeforeEach
  void start() {
    server = PrivateRedis.start();
    redis = RedisClient.create(server.url());
    reporter = new RedisCounterReporter(redis, keys);
  }

  @AfterEach
  void stop() {
    redis.close();
    server.close();
  }

  /** Reports only when asked: a report interval far beyond the test. */
  private Scope scope() {
    return new RootScopeBuilder().reporter(reporter).reportEvery(com.uber.m3.util.Duration.ofSeconds(3600));
  }

  private static void close(Scope scope) {
    try {
      scope.close();
    } catch (ScopeCloseException e) {
      throw new IllegalStateException(e);
    }
  }

  private Map<String, String> hash() {
    return redis.hgetAll(BerthCounters.redisKey(keys));
  }

  @Test
  void keepsBerthCountersWithTheirOwnTagOnlyAndDropsEverythingElse() {
    Scope scope = scope();
    // What Workflow.getMetricsScope() looks like: the SDK's tags come along.
    Scope workflow = scope.tagged(Map.of("namespace", "default", "task_queue", "berth", "workflow_type", "X"));
    BerthCounters.count(workflow, Counter.SAGA_COMPENSATIONS, "tag");
    BerthCounters.count(workflow, Counter.SAGA_COMPENSATIONS, "tag");
    BerthCounters.count(workflow, Counter.RECLAIMS, "idle");
    BerthCounters.count(workflow, Counter.HOSTS_QUARANTINED, null);
    workflow.tagged(Map.of("reason", "made-up")).counter("berth_reclaims").inc(5);
    workflow.counter("temporal_workflow_completed").inc(7);
    close(scope);

    assertEquals(Map.of(
        "berth_saga_compensations{step=\"tag\"}", "2",
        "berth_reclaims{reason=\"idle\"}", "1",
        "berth_hosts_quarantined", "1"), hash());
  }

  @Test
  void countsMadeWhileRedisIsDownArriveOnceItIsBack() {
    Map<String, String> tags = Map.of("phase", "pool", "namespace", "default");
    server.stop();
    reporter.reportCounter("berth_probe_failures", tags, 1);
    reporter.flush(); // cannot write: kept
    reporter.reportCounter("berth_probe_failures", tags, 2);
    reporter.flush();
    server.restart();
    reporter.reportCounter("berth_probe_failures", tags, 1);
    reporter.flush();
    reporter.flush(); // nothing pending: nothing counted twice
    assertEquals(Map.of("berth_probe_failures{phase=\"pool\"}", "4"), hash());
  }
}
