package io.berth.worker;

import com.uber.m3.tally.Buckets;
import com.uber.m3.tally.Capabilities;
import com.uber.m3.tally.CapableOf;
import com.uber.m3.tally.StatsReporter;
import com.uber.m3.util.Duration;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.RedisKeys;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.UnifiedJedis;

/**
 * The Temporal SDK's metrics reporter in the worker: keeps only the {@link BerthCounters}
 * (dropping the SDK's own series and every tag but the counter's own) and adds them to the
 * Redis hash the API exports. Increments that cannot be written yet (Redis down) stay pending
 * and go with the next report, so a Redis outage delays counts but does not lose them.
 */
final class RedisCounterReporter implements StatsReporter {
  private static final Logger log = LoggerFactory.getLogger(RedisCounterReporter.class);
  private final UnifiedJedis redis;
  private final String key;
  private final Map<String, AtomicLong> pending = new ConcurrentHashMap<>();

  RedisCounterReporter(UnifiedJedis redis, RedisKeys keys) {
    this.redis = redis;
    this.key = BerthCounters.redisKey(keys);
  }

  @Override
  public void reportCounter(String name, Map<String, String> tags, long value) {
    if (value == 0) {
      return;
    }
    BerthCounters.Counter.byMetric(name)
        .flatMap(c -> BerthCounters.field(c, c.tag() == null ? null : tags.get(c.tag())))
        .ifPresent(field -> add(field, value));
  }

  private void add(String field, long value) {
    pending.computeIfAbsent(field, f -> new AtomicLong()).addAndGet(value);
  }

  /** Called by Tally after each report, and by {@link #close}. */
  @Override
  public synchronized void flush() {
    Map<String, Long> batch = new HashMap<>();
    pending.forEach((field, n) -> {
      long v = n.getAndSet(0);
      if (v != 0) {
        batch.put(field, v);
      }
    });
    if (batch.isEmpty()) {
      return;
    }
    // MULTI/EXEC: all of the batch or none of it, so keeping a failed batch does not count twice.
    try (AbstractTransaction t = redis.multi()) {
      batch.forEach((field, v) -> t.hincrBy(key, field, v));
      t.exec();
    } catch (RuntimeException e) {
      batch.forEach(this::add);
      log.debug("counters not written to Redis, kept for the next report: {}", e.toString());
    }
  }

  @Override
  public void close() {
    flush();
  }

  @Override
  public Capabilities capabilities() {
    return CapableOf.REPORTING_TAGGING;
  }

  @Override
  public void reportGauge(String name, Map<String, String> tags, double value) {}

  @Override
  public void reportTimer(String name, Map<String, String> tags, Duration interval) {}

  @Override
  public void reportHistogramValueSamples(String name, Map<String, String> tags, Buckets buckets,
                                          double bucketLowerBound, double bucketUpperBound, long samples) {}

  @Override
  public void reportHistogramDurationSamples(String name, Map<String, String> tags, Buckets buckets,
                                             Duration bucketLowerBound, Duration bucketUpperBound, long samples) {}
}
