package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.testkit.Await;
import io.berth.workflows.RedisKeys;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@MicronautTest
class HeartbeatApiTest extends ApiTestBase {
  private final RedisKeys keys = new RedisKeys("berth:");

  /** Every key and value, to prove a rejected beat wrote nothing. */
  private Map<String, Object> snapshot() {
    Map<String, Object> all = new TreeMap<>();
    for (String k : stack.redis.keys("*")) {
      switch (stack.redis.type(k)) {
        case "hash" -> all.put(k, new TreeMap<>(stack.redis.hgetAll(k)));
        case "zset" -> all.put(k, stack.redis.zrangeWithScores(k, 0, -1).toString());
        case "set" -> all.put(k, new TreeMap<>(Map.of("members", stack.redis.smembers(k).toString())));
        case "string" -> all.put(k, stack.redis.get(k));
        default -> all.put(k, stack.redis.type(k));
      }
    }
    return all;
  }

  @Test
  void validTokenIs204AndRecordsActivityAndSignalsOncePerWindow() {
    String user = user("beat");
    String token = stack.heartbeatSession(user, allocated(user));
    long before = System.currentTimeMillis();

    for (int i = 0; i < 20; i++) {
      Http.Answer a = http.postWithAuthorization("/api/heartbeat", "Bearer " + token);
      assertEquals(204, a.status(), a.body());
    }
    // the burst fits in one 3 s window: the window key still lives, so every beat after the first was coalesced
    assertTrue(stack.redis.pttl(keys.heartbeatWindow(user)) > 0, "burst finished inside the window");
    long lastSeen = Long.parseLong(stack.redis.hget(keys.workspace(user), "lastSeen"));
    assertTrue(lastSeen >= before && lastSeen <= System.currentTimeMillis(), "lastSeen " + lastSeen);
    assertEquals((double) lastSeen, stack.redis.zscore(keys.pings(), user));
    Await.until("the window's one signal", Duration.ofSeconds(10), () -> stack.heartbeatSignals(user) >= 1);
    assertEquals(1, stack.heartbeatSignals(user), "one signal for 20 beats in one window");
    // The signal carries the time of the beat that opened the window (beat(atMillis)), not when it is handled.
    long at = Long.parseLong(stack.workspace(user).view().steps().stream()
        .filter(s -> s.step().equals("heartbeat")).findFirst().orElseThrow().detail());
    assertTrue(at >= before && at <= lastSeen, "signal stamped " + at);

    Await.until("the window to close", Duration.ofSeconds(10), () -> !stack.redis.exists(keys.heartbeatWindow(user)));
    assertEquals(204, http.postWithAuthorization("/api/heartbeat", "Bearer " + token).status());
    Await.until("the next window's signal", Duration.ofSeconds(10), () -> stack.heartbeatSignals(user) >= 2);
    assertEquals(2, stack.heartbeatSignals(user));
  }

  @Test
  void forgedTokenIs401AndWritesNothing() {
    String user = user("victim");
    stack.heartbeatSession(user, allocated(user));
    Map<String, Object> before = snapshot();
    for (String auth : new String[] {"Bearer " + UUID.randomUUID() + "-" + UUID.randomUUID(), "Bearer short",
        "Bearer " + "x".repeat(5000), "Basic dXNlcjpwYXNz", "Bearer ", "Bearer a b c d e f g h i j k l", null}) {
      Http.Answer a = http.postWithAuthorization("/api/heartbeat", auth);
      assertEquals(401, a.status(), auth + ": " + a.body());
      JsonNode body = a.json();
      assertEquals("unauthorized", body.path("error").asText());
    }
    assertEquals(before, snapshot());
    assertEquals(0, stack.heartbeatSignals(user));
  }

  @Test
  void staleTokenOfAReplacedWorkspaceIs401AndWritesNothing() {
    String user = user("stale");
    allocated(user);
    String oldToken = stack.heartbeatSession(user, "an-earlier-workspace");
    stack.redis.hset(keys.workspace(user), "workspaceId", "the-current-workspace");
    Map<String, Object> before = snapshot();
    assertEquals(401, http.postWithAuthorization("/api/heartbeat", "Bearer " + oldToken).status());
    assertEquals(before, snapshot());
  }

  @Test
  void tokenWhoseSessionIsGoneIs401AndDoesNotRecreateIt() {
    String user = user("gone");
    String token = stack.heartbeatSession(user, allocated(user));
    stack.redis.del(keys.workspace(user));
    assertEquals(401, http.postWithAuthorization("/api/heartbeat", "Bearer " + token).status());
    assertTrue(!stack.redis.exists(keys.workspace(user)), "no half session left behind");
  }

  @Test
  void aUserJwtIsNotAHeartbeatToken() {
    assertEquals(401, http.postWithAuthorization("/api/heartbeat", "Bearer " + token(user("jwt"))).status());
  }
}
