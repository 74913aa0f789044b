package io.berth.activities.routing;

import io.berth.activities.Addresses;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.RouteSpec;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Dynamic routing ({@code BERTH_ROUTING=dynamic}): a route is the Redis hash {@code route:<label>}
 * (address, port, user, requestId), and Nginx's one wildcard server ({@link WildcardServer}) asks
 * the API, which reads it, on every request. Routing a workspace is one HSET and one request
 * through the gateway that confirms the API sees it: no file, no {@code nginx -t}, no reload.
 *
 * <p>The undo deletes the record only while its requestId is still the undo's own (one Lua step),
 * so a late compensation of an earlier workspace cannot take away a newer workspace's route for
 * the same label.
 */
public final class RedisRoutes implements GatewayRoutes {
  private static final Logger log = LoggerFactory.getLogger(RedisRoutes.class);
  /** Kept short: the activity retries, and a saga whose gateway does not answer should compensate soon. */
  public static final Duration DEFAULT_CONFIRM_BOUND = Duration.ofSeconds(3);
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(2);
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");

  /** KEYS: route. ARGV: requestId. 1 deleted, 0 nothing there, -1 another request's route (kept). */
  static final String DELETE_IF_OURS = """
      local id = redis.call('HGET', KEYS[1], 'requestId')
      if id and id ~= ARGV[1] then return -1 end
      return redis.call('DEL', KEYS[1])
      """;

  private final NginxProcess nginx;
  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final Duration confirmBound;
  private final AtomicLong changes = new AtomicLong();
  private volatile String lastError;
  private volatile Instant lastErrorAt;

  public RedisRoutes(NginxProcess nginx, UnifiedJedis redis, RedisKeys keys) {
    this(nginx, redis, keys, DEFAULT_CONFIRM_BOUND);
  }

  /**
   * @param confirmBound how long one call waits for the gateway to answer as asked; keep it well
   *     under the activity's start-to-close timeout (15 s in ActivityStubs)
   */
  public RedisRoutes(NginxProcess nginx, UnifiedJedis redis, RedisKeys keys, Duration confirmBound) {
    this.nginx = nginx;
    this.redis = redis;
    this.keys = keys;
    this.confirmBound = confirmBound;
  }

  @Override
  public void routeWorkspace(RouteSpec route) {
    validate(route);
    if (!nginx.isRunning()) {
      throw ApplicationFailure.newFailure("nginx is not running", "NginxUnavailable");
    }
    redis.hset(keys.route(route.label()), Map.of("address", route.upstreamAddress(),
        "port", String.valueOf(route.upstreamPort()), "user", route.user(), "requestId", route.requestId()));
    changes.incrementAndGet();
    awaitAnswer(route, true);
    log.info("route {} -> {}:{} serving", route.label(), route.upstreamAddress(), route.upstreamPort());
  }

  @Override
  public void unrouteWorkspace(RouteSpec route) {
    NginxRoutes.validate(route, false);
    requireRequestId(route.requestId());
    long result = (Long) redis.eval(DELETE_IF_OURS, List.of(keys.route(route.label())), List.of(route.requestId()));
    if (result < 0) {
      log.info("route {} belongs to a newer request: left in place", route.label());
      return;
    }
    if (result > 0) {
      changes.incrementAndGet();
    }
    if (nginx.isRunning()) {
      awaitAnswer(route, false);
    }
    log.info("route {} removed", route.label());
  }

  /** Labels with a route record (SCAN, never KEYS: a large keyspace does not stall Redis). */
  @Override
  public List<String> routedLabels() {
    String prefix = keys.route("");
    ScanParams match = new ScanParams().match(globEscaped(prefix) + "*").count(500);
    List<String> labels = new ArrayList<>();
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = redis.scan(cursor, match);
      for (String key : page.getResult()) {
        String label = key.substring(prefix.length());
        if (Labels.validLabel(label)) {
          labels.add(label);
        }
      }
      cursor = page.getCursor();
    } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
    labels.sort(null);
    return labels;
  }

  /**
   * No reloads in this mode: {@code reloads} and {@code reloadFailures} are 0, {@code changesApplied}
   * counts records written and deleted, {@code lastError} is the last route the gateway did not confirm.
   */
  @Override
  public RoutingHealth health() {
    int routes = routeCount();
    return new RoutingHealth(nginx.isRunning(), routes, 0, changes.get(), 0, lastError, lastErrorAt);
  }

  @Override
  public void close() {
    // nothing of its own to stop: Redis and Nginx belong to the worker
  }

  /**
   * What the file mode checks ({@link NginxRoutes#validate}), and: the upstream is an IP literal
   * (Nginx resolves no name at request time), the user and request id are well formed (they are
   * stored, and the request id guards the undo).
   */
  static void validate(RouteSpec route) {
    NginxRoutes.validate(route, true);
    if (!Addresses.ipLiteral(route.upstreamAddress())) {
      throw invalid("upstream must be an IP literal with dynamic routing (no resolver)");
    }
    if (!Labels.validKey(route.user())) {
      throw invalid("user missing or malformed");
    }
    requireRequestId(route.requestId());
  }

  /** The id of the request a route (or an armed reclaim, an extend hold) belongs to: it names Redis keys. */
  static void requireRequestId(String requestId) {
    if (requestId == null || !REQUEST_ID.matcher(requestId).matches()) {
      throw invalid("request id must be 1..100 of [A-Za-z0-9_-]");
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  /**
   * Asks the gateway (Nginx → API → Redis) until it answers for the route the way the call
   * wants: with {@code X-Berth-Route: <label>} when {@code routed}, without it otherwise. No
   * reload happens, so one answer settles it; the polling only rides out a slow API. Removal also
   * stops when the label's record is another request's (a newer workspace routed meanwhile).
   */
  private void awaitAnswer(RouteSpec route, boolean routed) {
    long deadline = System.nanoTime() + confirmBound.toNanos();
    long pauseMillis = 5;
    String last = "no answer";
    while (true) {
      try {
        GatewayClient.Answer a = GatewayClient.get(nginx.gateway(), route.hostname(), ServerBlock.CHECK_PATH,
            CHECK_TIMEOUT);
        if (route.label().equals(a.header(ServerBlock.ROUTE_HEADER)) == routed) {
          return;
        }
        last = "the gateway answered " + a.status() + (a.status() >= 500 ? " (is the API reachable from Nginx?)" : "");
      } catch (IOException | RuntimeException e) {
        if (!routed) {
          return; // a gateway that cannot answer serves nothing, and the record it would read is gone
        }
        if (!nginx.isRunning()) {
          throw fail("nginx is not running", "NginxUnavailable");
        }
        last = e.toString();
      }
      if (!routed && !ours(route)) {
        return;
      }
      if (System.nanoTime() + pauseMillis * 1_000_000 > deadline) {
        throw fail("the gateway does not " + (routed ? "serve" : "drop") + " route " + route.label() + " within "
            + confirmBound + ": " + last, "RouteNotServing");
      }
      pause(pauseMillis);
      pauseMillis = Math.min(200, pauseMillis * 2);
    }
  }

  /** True while the label's record is absent or this request's own. */
  private boolean ours(RouteSpec route) {
    String id = redis.hget(keys.route(route.label()), "requestId");
    return id == null || id.equals(route.requestId());
  }

  private ApplicationFailure fail(String message, String type) {
    lastError = message;
    lastErrorAt = Instant.now();
    return ApplicationFailure.newFailure(message, type);
  }

  /** A key prefix as a literal in a SCAN pattern. */
  static String globEscaped(String s) {
    return s.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted waiting for the gateway", "RouteNotServing");
    }
  }
}
