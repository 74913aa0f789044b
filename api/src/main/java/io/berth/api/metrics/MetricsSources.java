package io.berth.api.metrics;

import io.berth.api.health.NginxHealth;
import io.berth.api.health.NginxReport;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.CapacityStatus;
import io.temporal.client.WorkflowClient;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * What the fleet gauges and worker counters read: the capacity workflow's status query and two
 * Redis hashes (the worker's counters, the Nginx report), fetched at most once per
 * {@code berth.metrics.refresh} however often Prometheus scrapes, however many scrapers there
 * are. A scrape waits at most {@link #WAIT} for a slow source and otherwise shows the previous
 * values; gauges never do I/O themselves.
 */
@Singleton
public class MetricsSources {
  static final Duration WAIT = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(MetricsSources.class);

  /** {@code capacity} and {@code nginx} are null when their source did not answer. */
  record Snapshot(CapacityStatus capacity, Map<String, String> counters, NginxReport nginx, long atNanos) {}

  private final WorkflowClient temporal;
  private final RedisClient redis;
  private final RedisKeys keys;
  private final ExecutorService executor;
  private final long refreshNanos;
  private volatile Snapshot current;
  private CompletableFuture<Snapshot> loading;

  public MetricsSources(WorkflowClient temporal, RedisClient redis, RedisKeys keys, MetricsSettings settings) {
    this.temporal = temporal;
    this.redis = redis;
    this.keys = keys;
    // Its own thread: a load outliving WAIT must not hold a request thread, and the shared pools
    // are themselves metered (the registry would need this bean to build them).
    this.executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "berth-metrics-sources");
      t.setDaemon(true);
      return t;
    });
    this.refreshNanos = settings.refresh().toNanos();
    this.current = new Snapshot(null, Map.of(), null, System.nanoTime() - refreshNanos - 1);
  }

  /** Brings the snapshot up to date when it is older than the refresh interval. Blocking: not on the event loop. */
  public void refresh() {
    CompletableFuture<Snapshot> f;
    synchronized (this) {
      if (System.nanoTime() - current.atNanos() < refreshNanos) {
        return;
      }
      if (loading == null || loading.isDone()) {
        loading = CompletableFuture.supplyAsync(this::load, executor).thenApply(s -> current = s);
      }
      f = loading;
    }
    try {
      f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.debug("metrics sources slower than {}; this scrape shows the previous values", WAIT);
    } catch (ExecutionException e) {
      log.debug("metrics sources failed: {}", e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Snapshot load() {
    Snapshot previous = current;
    CapacityStatus capacity = null;
    try {
      capacity = temporal.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).status();
    } catch (RuntimeException e) {
      log.debug("capacity status for metrics: {}", e.toString());
    }
    // Counters only grow: when Redis does not answer, keep the last values rather than drop to 0.
    Map<String, String> counters = previous.counters();
    NginxReport nginx = null;
    try {
      counters = Map.copyOf(redis.hgetAll(BerthCounters.redisKey(keys)));
      nginx = NginxReport.parse(redis.hgetAll(NginxHealth.key(keys)));
    } catch (RuntimeException e) {
      log.debug("worker counters for metrics: {}", e.toString());
    }
    return new Snapshot(capacity, counters, nginx, System.nanoTime());
  }

  @PreDestroy
  void stop() {
    executor.shutdownNow();
  }

  /** A capacity figure, NaN while the capacity workflow does not answer. */
  double capacity(ToIntFunction<CapacityStatus> figure) {
    CapacityStatus c = current.capacity();
    return c == null ? Double.NaN : figure.applyAsInt(c);
  }

  /** A worker counter by its {@link BerthCounters#field}; 0 until the worker first counts it. */
  double counter(String field) {
    String v = current.counters().get(field);
    try {
      return v == null ? 0 : Long.parseLong(v);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** 1 when a fresh report says Nginx runs; 0 when it does not, or no worker reports (the gateway cannot be vouched for). */
  double nginxUp() {
    NginxReport r = current.nginx();
    return r != null && r.ok() && r.fresh(System.currentTimeMillis()) ? 1 : 0;
  }
}
