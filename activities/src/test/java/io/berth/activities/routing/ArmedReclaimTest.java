package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.RedisPerClass;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.berth.workflows.model.RouteSpec;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClient;

/** The armed reclaim's decision at the deadline, on a real Redis (the Lua step, not its timer). */
class ArmedReclaimTest {
  private static final long IDLE = 60_000;
  private static final long DEADLINE = 1_000_000_000L;
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();
  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private final ArmedReclaim armed = new ArmedReclaim(redis, keys, null);

  @AfterEach
  void close() {
    armed.close();
  }

  /** A named workspace's key ({@code user#name}) is what routes and pings carry. */
  private ReclaimRequest request(String key, String requestId) {
    String label = Labels.labelFor(key);
    redis.hset(keys.route(label), Map.of("address", "127.0.0.1", "port", "50000", "user", key, "requestId", requestId));
    return new ReclaimRequest(new RouteSpec(requestId, key, label, label + ".localhost", "127.0.0.1", 50000),
        DEADLINE, IDLE);
  }

  @Test
  void idleAtTheDeadlineRemovesTheRouteOfANamedWorkspace() {
    String key = Labels.workspaceKey("alice", "dev");
    ReclaimRequest r = request(key, "req-1");
    redis.zadd(keys.pings(), DEADLINE - IDLE, key);
    ArmedReclaim.validate(r);
    assertTrue(armed.check(r).reclaimed());
    assertFalse(redis.exists(keys.route(r.route().label())), "route record gone");
    assertTrue(armed.check(r).reclaimed(), "a retried check agrees with the verdict");
    assertFalse(armed.holdUntil("req-1", DEADLINE + 10_000), "an extend after the verdict is too late");
  }

  @Test
  void activityOrAnExtendBeforeTheDeadlineKeepsIt() {
    ReclaimRequest r = request("bob", "req-2");
    redis.zadd(keys.pings(), DEADLINE - IDLE + 1, "bob");
    ReclaimOutcome kept = armed.check(r);
    assertFalse(kept.reclaimed());
    assertEquals(DEADLINE - IDLE + 1, kept.lastActivityMillis());
    assertTrue(redis.exists(keys.route(r.route().label())), "route record stays");

    ReclaimRequest c = request("carol", "req-3");
    assertTrue(armed.holdUntil("req-3", DEADLINE + 5_000));
    ReclaimOutcome held = armed.check(c);
    assertFalse(held.reclaimed());
    assertEquals(DEADLINE + 5_000, held.heldUntilMillis());
  }

  @Test
  void aRouteRewrittenByAnotherRequestIsNotRemoved() {
    ReclaimRequest r = request("dan", "req-4");
    redis.hset(keys.route(r.route().label()), "requestId", "req-5");
    assertTrue(armed.check(r).reclaimed());
    assertTrue(redis.exists(keys.route(r.route().label())), "the newer request's route stays");
  }

  @Test
  void malformedInputIsRefusedBeforeItNamesAKey() {
    RouteSpec bad = new RouteSpec("req-6", "alice\nroot", "ok-label", "h", "127.0.0.1", 1);
    assertThrows(ApplicationFailure.class, () -> ArmedReclaim.validate(new ReclaimRequest(bad, DEADLINE, IDLE)));
    RouteSpec badId = new RouteSpec("req 7;", "eve", Labels.labelFor("eve"), "h", "127.0.0.1", 1);
    assertThrows(ApplicationFailure.class, () -> ArmedReclaim.validate(new ReclaimRequest(badId, DEADLINE, IDLE)));
  }
}
