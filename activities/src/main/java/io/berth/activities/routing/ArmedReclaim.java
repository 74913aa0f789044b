package io.berth.activities.routing;

import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.activities.ReclaimActivities;
import io.berth.workflows.activities.RouteActivities;
import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.berth.workflows.model.RouteSpec;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.ActivityNotExistsException;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * Armed idle reclaim on the worker: {@link #reclaimAt} returns at once without completing (no
 * thread and no activity slot is held while it waits), a timer fires at the deadline, one Lua
 * step decides, and the activity is completed through the client. However many workspaces expire
 * together, their routes go at their deadlines: what queues behind the workflow tasks is only the
 * teardown that follows, which finds the route already gone.
 *
 * <p>The decision and the route removal are one atomic step in Redis ({@link #RECLAIM_IF_IDLE}):
 * a heartbeat recorded before it keeps the workspace, one after it comes too late, never half of
 * each. The verdict is kept under {@link RedisKeys#idleHold}, so a retried call (a worker died
 * while holding it) and a late extend agree with it.
 *
 * <p>Dynamic routing: the route record goes in the same Lua step (only while its requestId is the
 * request's own, as {@link RedisRoutes} does), and the gateway reads that record on every request,
 * so the route stops serving at that instant. Route files: the Lua step decides, then the file
 * mode's own unroute (file removal, batched reload) runs before the activity completes.
 */
public final class ArmedReclaim implements ReclaimActivities, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ArmedReclaim.class);
  static final String RECLAIMED = "reclaimed";
  /** How long a verdict or a hold outlives its deadline: past any teardown and any retry. */
  static final long KEEP_MILLIS = 3_600_000;

  /**
   * KEYS: pings, hold, route. ARGV: user, requestId, deadline, idle ms, verdict TTL ms, remove route
   * (1/0). Returns {reclaimed 1/0, last activity, held until}.
   */
  static final String RECLAIM_IF_IDLE = """
      local last = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0') or 0
      local hold = redis.call('GET', KEYS[2])
      if hold == 'reclaimed' then return {1, last, 0} end
      local held = tonumber(hold or '0') or 0
      local deadline = tonumber(ARGV[3])
      if last + tonumber(ARGV[4]) > deadline or held > deadline then return {0, last, held} end
      redis.call('SET', KEYS[2], 'reclaimed', 'PX', ARGV[5])
      if ARGV[6] == '1' then
        local id = redis.call('HGET', KEYS[3], 'requestId')
        if (not id) or id == ARGV[2] then redis.call('DEL', KEYS[3]) end
      end
      return {1, last, 0}
      """;

  /** KEYS: hold. ARGV: deadline, TTL ms. -1 already reclaimed, 0 an equal or later hold stands, 1 recorded. */
  static final String HOLD_UNTIL = """
      local v = redis.call('GET', KEYS[1])
      if v == 'reclaimed' then return -1 end
      if v and tonumber(v) and tonumber(v) >= tonumber(ARGV[1]) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return 1
      """;

  private final UnifiedJedis redis;
  private final RedisKeys keys;
  /** Route files: the unroute to run after an idle verdict. Null with dynamic routing (the Lua step removes it). */
  private final RouteActivities fileRoutes;
  /** Fires at the deadlines and runs the Lua steps: short, so two threads keep up with a thousand at once. */
  private final ScheduledExecutorService timer;
  /** Completion calls to the server (and file unroutes): a slow server must not hold up the next deadline. */
  private final ExecutorService completer;
  private final AtomicInteger waiting = new AtomicInteger();
  private volatile ActivityCompletionClient completions;

  /** @param fileRoutes the file mode's routes, or null when routes are Redis records (dynamic routing) */
  public ArmedReclaim(UnifiedJedis redis, RedisKeys keys, RouteActivities fileRoutes) {
    this.redis = redis;
    this.keys = keys;
    this.fileRoutes = fileRoutes;
    this.timer = Executors.newScheduledThreadPool(2, daemon("berth-armed-reclaim"));
    this.completer = Executors.newFixedThreadPool(8, daemon("berth-armed-complete"));
  }

  @Override
  public ReclaimOutcome reclaimAt(ReclaimRequest request) {
    validate(request);
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    byte[] token = ctx.getTaskToken();
    if (completions == null) {
      completions = ctx.getWorkflowClient().newActivityCompletionClient();
    }
    long delay = Math.max(0, request.deadlineMillis() - System.currentTimeMillis());
    ctx.doNotCompleteOnReturn();
    waiting.incrementAndGet();
    timer.schedule(() -> decide(request, token), delay, TimeUnit.MILLISECONDS);
    return null;
  }

  @Override
  public boolean holdUntil(String requestId, long deadlineMillis) {
    RedisRoutes.requireRequestId(requestId);
    long ttl = Math.max(0, deadlineMillis - System.currentTimeMillis()) + KEEP_MILLIS;
    long r = (Long) redis.eval(HOLD_UNTIL, List.of(keys.idleHold(requestId)),
        List.of(String.valueOf(deadlineMillis), String.valueOf(ttl)));
    return r >= 0;
  }

  /** Armed reclaims waiting for their deadline on this worker. */
  public int waiting() {
    return waiting.get();
  }

  /** At the deadline: one Lua step decides (and, with dynamic routing, removes the route). */
  private void decide(ReclaimRequest request, byte[] token) {
    waiting.decrementAndGet();
    ReclaimOutcome outcome;
    try {
      outcome = check(request);
    } catch (RuntimeException e) {
      completer.execute(() -> fail(token, e));
      return;
    }
    if (outcome.reclaimed()) {
      log.info("idle at {}: route {} reclaimed", request.deadlineMillis(), request.route().label());
    }
    completer.execute(() -> {
      try {
        if (outcome.reclaimed() && fileRoutes != null) {
          fileRoutes.unrouteWorkspace(request.route());
        }
        completions.complete(token, outcome);
      } catch (ActivityNotExistsException e) {
        log.debug("armed reclaim of {} is no longer awaited: {}", request.route().label(), e.toString());
      } catch (RuntimeException e) {
        fail(token, e);
      }
    });
  }

  ReclaimOutcome check(ReclaimRequest request) {
    RouteSpec route = request.route();
    @SuppressWarnings("unchecked")
    long started = System.currentTimeMillis();
    List<Long> r = (List<Long>) redis.eval(RECLAIM_IF_IDLE,
        List.of(keys.pings(), keys.idleHold(route.requestId()), keys.route(route.label())),
        List.of(route.user(), route.requestId(), String.valueOf(request.deadlineMillis()),
            String.valueOf(request.idleMillis()), String.valueOf(KEEP_MILLIS), fileRoutes == null ? "1" : "0"));
    return new ReclaimOutcome(r.get(0) == 1, r.get(1), r.get(2), started);
  }

  /** A failed check or unroute: the server retries the activity (it checks again at once, past the deadline). */
  private void fail(byte[] token, RuntimeException cause) {
    try {
      completions.completeExceptionally(token, ApplicationFailure.newFailure(
          "armed reclaim failed: " + cause.getMessage(), "ArmedReclaimFailed"));
    } catch (RuntimeException e) {
      log.warn("armed reclaim failed ({}) and could not report it ({}); its timeout will retry it", cause, e.toString());
    }
  }

  static void validate(ReclaimRequest request) {
    RouteSpec route = request == null ? null : request.route();
    if (route == null || !Labels.validLabel(route.label()) || !Labels.validKey(route.user())) {
      throw invalid("route label or user missing or malformed");
    }
    RedisRoutes.requireRequestId(route.requestId());
    if (request.idleMillis() <= 0 || request.deadlineMillis() <= 0) {
      throw invalid("deadline and idle timeout must be positive");
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Armed reclaims still waiting are dropped: their start-to-close runs out and another worker retries them. */
  @Override
  public void close() {
    timer.shutdownNow();
    completer.shutdownNow();
  }
}
