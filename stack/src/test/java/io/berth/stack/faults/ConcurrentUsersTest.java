package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.stack.Invariants;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 5: 100 users, each allocating twice at once (200 concurrent allocations per round),
 * with heartbeats, reads and releases interleaved, for two rounds, on a fleet far smaller than
 * the demand. Every call gets a clean answer (none 500, none hung past the client's timeout), and
 * afterwards the invariants hold: in particular no user holds two slots and no slot two users.
 */
class ConcurrentUsersTest {
  static final int USERS = 100;
  static final int ROUNDS = 2;
  static final Set<Integer> ALLOCATE_OK = Set.of(200, 202, 409, 429, 503);
  static FaultStack f;

  @BeforeAll
  static void start() {
    f = FaultStack.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "8", "BERTH_SLOTS_PER_HOST", "4",
        "BERTH_SCALE_OUT_STEP", "4", "BERTH_ALLOCATE_WAIT", "PT20S", "BERTH_COLD_START_TIMEOUT", "PT60S"));
    // 4 slots per host: the first host brings 4 spares.
    io.berth.testkit.Await.until("spares in the pool", Duration.ofSeconds(90), () -> f.spares() >= 2);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void twoHundredConcurrentAllocationsForAHundredUsersAreAllAnsweredAndNothingIsDoubled() throws Exception {
    Map<String, Map<Integer, Integer>> answers = new ConcurrentHashMap<>();
    List<String> users = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      users.add("load" + i);
    }
    ExecutorService pool = Executors.newFixedThreadPool(2 * USERS);
    try {
      for (int round = 0; round < ROUNDS; round++) {
        List<Future<?>> calls = new ArrayList<>();
        for (String u : users) {
          // Two callers per user at once; the first one releases once it has used the workspace.
          calls.add(pool.submit(() -> useWorkspace(u, true, answers)));
          calls.add(pool.submit(() -> useWorkspace(u, false, answers)));
        }
        for (Future<?> c : calls) {
          c.get(300, TimeUnit.SECONDS);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Map<String, Map<Integer, Integer>> sorted = new TreeMap<>(answers);
    System.out.println("answers: " + sorted);
    for (String u : hung) {
      System.out.println("HUNG " + u + " history:\n" + WorkerCrashTest.excerpt(f.history(u)));
    }
    assertTrue(answers.getOrDefault("allocate", Map.of()).keySet().stream().allMatch(ALLOCATE_OK::contains),
        "allocate: " + sorted);
    assertEquals(2 * USERS * ROUNDS, answers.get("allocate").values().stream().mapToInt(Integer::intValue).sum());
    assertTrue(Set.of(204, 401).containsAll(answers.getOrDefault("heartbeat", Map.of()).keySet()), sorted.toString());
    assertTrue(Set.of(200, 404).containsAll(answers.getOrDefault("me", Map.of()).keySet()), sorted.toString());
    assertTrue(Set.of(202, 404).containsAll(answers.getOrDefault("release", Map.of()).keySet()), sorted.toString());
    assertTrue(answers.get("allocate").getOrDefault(200, 0) > 0, "some were served");
    Invariants.awaitHold(f.sources(), users, Duration.ofSeconds(180));
  }

  static final Set<String> hung = ConcurrentHashMap.newKeySet();

  private static void useWorkspace(String user, boolean releases, Map<String, Map<Integer, Integer>> answers) {
    HttpResponse<String> r;
    try {
      r = count(answers, "allocate", f.allocate(user));
    } catch (java.io.UncheckedIOException e) {
      if (hung.isEmpty()) {
        Thread.getAllStackTraces().forEach((t, st) -> {
          String trace = java.util.Arrays.toString(st);
          if (trace.contains("WorkspaceWorkflows")) {
            System.out.println("API THREAD " + t.getName() + ":\n  " + String.join("\n  ",
                java.util.Arrays.stream(st).limit(40).map(String::valueOf).toList()));
          }
        });
      }
      hung.add(user);
      answers.computeIfAbsent("allocate", c -> new ConcurrentHashMap<>()).merge(-1, 1, Integer::sum);
      return;
    }
    if (r.statusCode() != 200) {
      return;
    }
    String token = f.workspaceToken(user);
    if (token != null) {
      count(answers, "heartbeat", f.heartbeat(token));
    }
    count(answers, "me", f.call("GET", "/api/workspaces/me", FaultStack.token(user), null));
    if (releases) {
      count(answers, "release", f.release(user));
    }
  }

  private static HttpResponse<String> count(Map<String, Map<Integer, Integer>> answers, String call,
                                            HttpResponse<String> r) {
    answers.computeIfAbsent(call, c -> new ConcurrentHashMap<>()).merge(r.statusCode(), 1, Integer::sum);
    if (r.statusCode() >= 500 && r.statusCode() != 503) {
      System.out.println(call + " answered " + r.statusCode() + ": " + r.body());
    }
    return r;
  }
}
