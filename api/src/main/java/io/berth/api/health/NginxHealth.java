package io.berth.api.health;

import io.berth.workflows.RedisKeys;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import redis.clients.jedis.RedisClient;

/**
 * The API never talks to Nginx: the worker that owns it writes {@code <prefix>health:nginx}
 * ({@link NginxReport}). Missing or stale counts as unknown, reported UP so that a stack without
 * the reporter yet still passes; {@code ok=false} (Nginx not running) is DOWN, so /health answers
 * 503. A route change that failed in the last {@link NginxReport#DEGRADED_FOR} while Nginx still
 * runs is UP with state "degraded" and the failure: Nginx keeps serving the configuration it had,
 * so a load balancer must not take the API out, but an operator looking at /health sees it.
 */
@Singleton
public class NginxHealth extends BlockingHealthIndicator {
  private final RedisClient redis;
  private final RedisKeys keys;

  public NginxHealth(RedisClient redis, RedisKeys keys, @Named(TaskExecutors.BLOCKING) ExecutorService executor) {
    super(executor);
    this.redis = redis;
    this.keys = keys;
  }

  /** Not in RedisKeys yet: the worker's reporter and this indicator must agree on it. */
  public static String key(RedisKeys keys) {
    return keys.prefix() + "health:nginx";
  }

  @Override
  String name() {
    return "nginx";
  }

  @Override
  HealthResult check() {
    Map<String, String> h;
    try {
      h = redis.hgetAll(key(keys));
    } catch (RuntimeException e) {
      return result(HealthStatus.UP, Map.of("state", "unknown", "why", "redis unreachable"));
    }
    if (h == null || h.isEmpty()) {
      return result(HealthStatus.UP, Map.of("state", "unknown", "why", "no report yet"));
    }
    NginxReport r = NginxReport.parse(h);
    long now = System.currentTimeMillis();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("detail", r.detail());
    if (r.atMillis() > 0) {
      details.put("at", Instant.ofEpochMilli(r.atMillis()).toString());
    }
    if (!r.fresh(now)) {
      details.put("state", "unknown");
      details.put("why", "report is stale");
      return result(HealthStatus.UP, details);
    }
    details.put("reloadFailures", r.reloadFailures());
    if (!r.ok()) {
      details.put("state", "failing");
      return result(HealthStatus.DOWN, details);
    }
    if (r.degraded(now)) {
      details.put("state", "degraded");
      details.put("lastReloadFailure", r.publicLastError());
      details.put("lastReloadFailureAt", Instant.ofEpochMilli(r.lastErrorAtMillis()).toString());
      return result(HealthStatus.UP, details);
    }
    details.put("state", "ok");
    return result(HealthStatus.UP, details);
  }
}
