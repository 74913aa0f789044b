package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 2: Redis restarts without persistence (every key lost) while users allocate and
 * release. Calls fail cleanly (503 with Retry-After) or go through; nothing answers 500 or hangs.
 * Afterwards the read model is rebuilt from the workflows and the fleet: the local fleet records
 * its hosts again from their directories (same processes, ports, owners), the controller refills
 * the pool, and each live workspace writes its session again with a fresh heartbeat token.
 */
class RedisRestartTest {
  static final Set<Integer> CLEAN = Set.of(200, 202, 404, 409, 429, 503);
  static FaultStack f;

  @BeforeAll
  static void start() {
    f = FaultStack.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "12", "BERTH_ALLOCATE_WAIT", "PT20S"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void redisLosingEverythingDuringTrafficIsRebuiltFromTheWorkflowsAndTheFleet() throws Exception {
    List<String> settled = List.of("rae", "rob", "roy");
    Map<String, String> tokens = new HashMap<>();
    Map<String, Long> pids = new HashMap<>();
    for (String u : settled) {
      f.ready(u);
      tokens.put(u, f.workspaceToken(u));
      pids.put(u, slotPid(u));
    }

    List<String> movers = List.of("tia", "tom", "tod", "tui");
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    CountDownLatch firstCalls = new CountDownLatch(movers.size());
    ExecutorService pool = Executors.newFixedThreadPool(movers.size());
    List<Future<?>> traffic = new ArrayList<>();
    for (String u : movers) {
      traffic.add(pool.submit(() -> {
        for (int round = 0; round < 3; round++) {
          record(statuses, f.allocate(u));
          firstCalls.countDown();
          record(statuses, f.call("GET", "/api/workspaces/me", FaultStack.token(u), null));
          record(statuses, f.release(u));
        }
        return null;
      }));
    }
    assertTrue(firstCalls.await(120, TimeUnit.SECONDS), "traffic started");
    f.redisServer.restart();
    for (Future<?> t : traffic) {
      t.get(300, TimeUnit.SECONDS);
    }
    pool.shutdownNow();
    assertTrue(statuses.keySet().stream().allMatch(CLEAN::contains), "only clean answers: " + statuses);

    List<String> everyone = new ArrayList<>(settled);
    everyone.addAll(movers);
    Invariants.awaitHold(f.sources(), everyone, Duration.ofSeconds(120));
    for (String u : settled) {
      assertEquals(pids.get(u), slotPid(u), u + " kept the same workspace process");
      assertTrue(f.asOwner(u, "/").body().contains("Workspace of " + u));
      String fresh = Await.value(u + "'s new heartbeat token", Duration.ofSeconds(30),
          () -> tokens.get(u).equals(f.workspaceToken(u)) ? null : f.workspaceToken(u));
      assertNotEquals(tokens.get(u), fresh);
      assertEquals(204, f.heartbeat(fresh).statusCode());
      assertEquals(401, f.heartbeat(tokens.get(u)).statusCode(), "the token from before the loss is dead");
    }
    f.awaitSpares(2);
    System.out.println("answers during the Redis restart: " + statuses);
  }

  private static void record(Map<Integer, Integer> statuses, HttpResponse<String> r) {
    statuses.merge(r.statusCode(), 1, Integer::sum);
    if (r.statusCode() == 503) {
      assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.body());
    }
    if (!CLEAN.contains(r.statusCode())) {
      System.out.println("unclean answer " + r.statusCode() + " " + r.uri() + ": " + r.body());
    }
  }

  private static long slotPid(String user) {
    Map<String, String> ws = f.session(user);
    String[] slot = ws.get("slotId").split("/");
    return Long.parseLong(f.redis.hget(f.keys.instance(slot[0]), "pid." + slot[1]));
  }
}
