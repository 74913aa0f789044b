package io.berth.worker;

import io.berth.activities.routing.NginxProcess;
import io.berth.activities.routing.GatewayRoutes;
import io.berth.activities.routing.RoutingHealth;
import io.berth.activities.routing.RoutingMode;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.RedisKeys;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * Publishes the gateway's health into Redis ({@code <prefix>health:nginx}), where the API's
 * /health reads it: the API never talks to Nginx itself. Reload failures also go to the shared
 * counters ({@link BerthCounters}) as they happen, so they survive a worker restart.
 */
final class HealthPublisher {
  private static final Logger log = LoggerFactory.getLogger(HealthPublisher.class);
  private static final String RELOAD_FAILURES =
      BerthCounters.field(BerthCounters.Counter.NGINX_RELOAD_FAILURES, null).orElseThrow();
  private final UnifiedJedis redis;
  private final String key;
  private final NginxProcess nginx;
  private final GatewayRoutes routes;
  private final RoutingMode routing;
  private final String countersKey;
  /** Reload failures already added to the shared counter. */
  private long failuresCounted;

  HealthPublisher(UnifiedJedis redis, RedisKeys keys, NginxProcess nginx, GatewayRoutes routes, RoutingMode routing) {
    this.routing = routing;
    this.redis = redis;
    this.key = keys.prefix() + "health:nginx";
    this.countersKey = BerthCounters.redisKey(keys);
    this.nginx = nginx;
    this.routes = routes;
  }

  void publish() {
    try {
      boolean running = nginx.isRunning();
      RoutingHealth h = routes.health();
      String detail = !running ? "nginx is not running"
          : routing == RoutingMode.DYNAMIC ? h.routes() + " routes (dynamic, no reloads)"
          : h.routes() + " routes, " + h.reloads() + " reloads";
      redis.hset(key, Map.of("ok", String.valueOf(running), "detail", detail,
          "routes", String.valueOf(h.routes()), "reloads", String.valueOf(h.reloads()),
          "reloadFailures", String.valueOf(h.reloadFailures()),
          "lastError", h.lastError() == null ? "" : h.lastError(),
          "lastErrorAt", h.lastErrorAt() == null ? "0" : String.valueOf(h.lastErrorAt().toEpochMilli()),
          "at", String.valueOf(System.currentTimeMillis())));
      redis.pexpire(key, 10_000);
      countReloadFailures(h.reloadFailures());
    } catch (RuntimeException e) {
      log.debug("health publish failed: {}", e.toString());
    }
  }

  private void countReloadFailures(long total) {
    long delta = total - failuresCounted;
    if (delta > 0) {
      redis.hincrBy(countersKey, RELOAD_FAILURES, delta);
      failuresCounted = total;
    }
  }
}
