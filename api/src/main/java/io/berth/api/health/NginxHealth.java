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
<<<<<<< HEAD
 * {ok, detail, at, reloadFailures, lastErrorAt}. Missing or stale counts as unknown, reported UP
 * so that a stack without the reporter yet still passes; {@code ok=false} (Nginx not running) is
 * DOWN. A route change that failed within {@link #ALERT_FOR} is an alert: Nginx still serves the
 * previous configuration, so the status stays UP with {@code state=degraded} and the count, never
 * Nginx's own message (this endpoint is public).
 */
@Singleton
public class NginxHealth extends BlockingHealthIndicator {
  static final Duration STALE_AFTER = Duration.ofMinutes(2);
  public static final Duration ALERT_FOR = Duration.ofMinutes(5);
=======
 * ({@link NginxReport}). Missing or stale counts as unknown, reported UP so that a stack without
 * the reporter yet still passes; {@code ok=false} (Nginx not running) is DOWN, so /health answers
 * 503. A route change that failed in the last {@link NginxReport#DEGRADED_FOR} while Nginx still
 * runs is UP with state "degraded" and the failure: Nginx keeps serving the configuration it had,
 * so a load balancer must not take the API out, but an operator looking at /health sees it.
 */
@Singleton
public class NginxHealth extends BlockingHealthIndicator {
>>>>>>> main
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
<<<<<<< HEAD
    boolean ok = "true".equalsIgnoreCase(h.get("ok")) || "1".equals(h.get("ok"));
    details.put("reloadFailures", parse(h.get("reloadFailures")));
    long failedAt = parse(h.get("lastErrorAt"));
    boolean recentFailure = failedAt > 0 && System.currentTimeMillis() - failedAt <= ALERT_FOR.toMillis();
    if (recentFailure) {
      details.put("lastReloadFailure", Instant.ofEpochMilli(failedAt).toString());
      details.put("alert", "a route change failed; nginx serves the previous configuration");
    }
    details.put("state", !ok ? "failing" : recentFailure ? "degraded" : "ok");
    return result(ok ? HealthStatus.UP : HealthStatus.DOWN, details);
  }

  private static long parse(String v) {
    try {
      return v == null ? 0 : Long.parseLong(v);
    } catch (NumberFormatException e) {
      return 0;
=======
    details.put("reloadFailures", r.reloadFailures());
    if (!r.ok()) {
      details.put("state", "failing");
      return result(HealthStatus.DOWN, details);
>>>>>>> main
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
