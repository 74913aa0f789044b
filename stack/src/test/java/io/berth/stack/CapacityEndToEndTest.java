package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.SlotStatus;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The capacity controller on the real stack with short timers (issue 4). */
class CapacityEndToEndTest {

  private static List<Host> hosts(StackFixture f) {
    return f.stack.worker().fleet().describe().hosts();
  }

  private static long owned(StackFixture f) {
    return hosts(f).stream().flatMap(h -> h.slots().stream()).filter(s -> s.owner() != null).count();
  }

  @Test
  void warmSparesAreServedAndRefilledWithoutPassingMaxHosts() {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "4"))) {
      f.awaitSpares(2);
      AtomicInteger most = new AtomicInteger();
      for (String user : List.of("ann", "ben", "cat")) {
        String body = f.ready(user).body();
        assertFalse(body.contains("\"capacity\""), "served warm: " + body);
        Await.until("pool refilled after " + user, Duration.ofSeconds(60), () -> {
          most.accumulateAndGet(hosts(f).size(), Math::max);
          return f.spares() == Math.min(2, 4 - owned(f));
        });
      }
      assertTrue(most.get() <= 4, "hosts peaked at " + most.get());
      assertEquals(4, hosts(f).size());
    }
  }

  @Test
  void sevenUsersFitOnThreeHostsAndReleasingScalesInToTheOwnedHost() {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SLOTS_PER_HOST", "3", "BERTH_SPARES", "1",
        "BERTH_MAX_HOSTS", "5", "BERTH_ALLOCATE_WAIT", "PT60S"))) {
      List<String> users = List.of("u1", "u2", "u3", "u4", "u5", "u6", "u7");
      users.forEach(f::ready);
      Await.until("3 hosts", Duration.ofSeconds(60), () -> hosts(f).size() == 3);
      assertEquals(7, owned(f));

      String kept = "u4";
      String keptHost = f.session(kept).get("hostId");
      users.stream().filter(u -> !u.equals(kept))
          .forEach(u -> f.call("DELETE", "/api/workspaces/me", StackFixture.token(u), null));
      // 1 active + 1 spare on 3-slot hosts: one host is enough, and it must be the owned one.
      Await.until("scale-in to the owned host", Duration.ofSeconds(90), () -> {
        List<Host> now = hosts(f);
        assertTrue(now.stream().anyMatch(h -> h.hostId().equals(keptHost)), "the owned host was terminated");
        return now.size() == 1;
      });
      assertEquals(kept, hosts(f).get(0).slots().stream().map(SlotStatus::owner)
          .filter(o -> o != null).findFirst().orElse(null));
      assertTrue(f.asOwner(kept, "/").body().contains("Workspace of u4"));
    }
  }

  @Test
  void scaleToZeroThenTheFirstAllocationWakesTheFleetThroughTheColdPath() {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "0", "BERTH_MIN_HOSTS", "0",
        "BERTH_ALLOCATE_WAIT", "PT60S"))) {
      HttpResponse<String> first = f.ready("zoe");
      assertTrue(first.body().contains("\"capacity\""), "went through the cold path: " + first.body());
      assertStepsInOrder(first.body(), "claim", "capacity", "probe", "tag", "protect", "dns", "route", "session",
          "ready");

      f.call("DELETE", "/api/workspaces/me", StackFixture.token("zoe"), null);
      Await.until("the fleet drained to zero", Duration.ofSeconds(60), () -> hosts(f).isEmpty());

      HttpResponse<String> again = f.ready("yan");
      assertTrue(again.body().contains("\"capacity\""), again.body());
      assertEquals(1, hosts(f).size());
    }
  }

  static void assertStepsInOrder(String body, String... steps) {
    int at = 0;
    for (String s : steps) {
      int i = body.indexOf("\"step\":\"" + s + "\"", at);
      assertTrue(i >= 0, "step " + s + " after position " + at + " in " + body);
      at = i;
    }
  }

  @Test
  void aDeadSpareIsReplacedAndAHostThatStopsAnsweringIsQuarantined() throws Exception {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "2", "BERTH_PROBE_ATTEMPTS", "3"))) {
      f.awaitSpares(2);
      List<String> spares = new ArrayList<>(f.stack.redis().smembers(f.stack.keys().pool("demo")));
      spares.sort(null);
      String dead = spares.get(0);
      long deadPid = pid(f, dead);
      ProcessHandle.of(deadPid).ifPresent(ProcessHandle::destroyForcibly);
      Await.until("the dead spare replaced by a fresh process in the pool", Duration.ofSeconds(60),
          () -> pid(f, dead) != deadPid && f.spares() == 2);

      // A host that keeps failing: whatever process its slot runs is stopped (SIGSTOP: alive, silent).
      String silent = spares.get(1);
      String silentHost = silent.split("/")[0];
      java.util.concurrent.ScheduledExecutorService stopper = Executors.newSingleThreadScheduledExecutor();
      stopper.scheduleWithFixedDelay(() -> {
        long p = pid(f, silent);
        if (p > 0) {
          try {
            new ProcessBuilder("kill", "-STOP", String.valueOf(p)).start().waitFor();
          } catch (Exception ignored) {
            // the host may be gone already
          }
        }
      }, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
      try {
        Await.until("the failing host quarantined and terminated", Duration.ofSeconds(120),
            () -> hosts(f).stream().noneMatch(h -> h.hostId().equals(silentHost)));
      } finally {
        stopper.shutdownNow();
      }
      f.awaitSpares(2);
      assertFalse(f.stack.redis().sismember(f.stack.keys().pool("demo"), silent));
      assertTrue(f.call("GET", "/api/status", StackFixture.adminToken(), null).body().contains("quarantine"));
    }
  }

  /**
   * Redis loses the read model (pool, sessions) under a running system: the controller rebuilds the
   * pool from the fleet, and kim's live workflow rewrites her session with a fresh heartbeat token.
   * (Worker crashes, with the worker in its own process, are in faults/WorkerCrashTest; see
   * docs/FAULTS.md for the test server's sticky-queue trap they work around.)
   */
  @Test
  void redisLosingTheReadModelIsRebuiltFromTheWorkflowsAndTheFleet() {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "2"))) {
      f.awaitSpares(2);
      f.ready("kim");
      f.awaitSpares(2);
      Set<String> before = hostIds(f);
      String oldToken = f.workspaceToken("kim");

      // Everything of the read model goes (the local fleet's own host records stay: they are its "cloud").
      f.stack.redis().del(f.stack.keys().pool("demo"), f.stack.keys().workspace("kim"), f.stack.keys().users(),
          f.stack.keys().pings(), f.stack.keys().heartbeatToken(io.berth.workflows.Labels.sha256Hex(oldToken)));

      Await.until("the pool rebuilt", Duration.ofSeconds(60), () -> f.spares() == 2);
      Await.until("kim's session rebuilt from her workflow", Duration.ofSeconds(60),
          () -> "READY".equals(f.session("kim").get("state")));
      assertEquals(before, hostIds(f), "same hosts: none launched twice, none leaked");
      assertTrue(f.asOwner("kim", "/").body().contains("Workspace of kim"));
      String newToken = Await.value("a new heartbeat token delivered", Duration.ofSeconds(30),
          () -> oldToken.equals(f.workspaceToken("kim")) ? null : f.workspaceToken("kim"));
      assertEquals(204, f.heartbeat(newToken).statusCode());
    }
  }

  @Test
  void fiftyConcurrentUsersAtMaxHostsAreEachServedQueuedOrTurnedAwayNeverLostOrDoubled() throws Exception {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "6",
        "BERTH_ALLOCATE_WAIT", "PT20S"))) {
      f.awaitSpares(2);
      ExecutorService pool = Executors.newFixedThreadPool(50);
      List<Future<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        String user = "burst" + i;
        calls.add(pool.submit(() -> f.allocate(user)));
      }
      int ready = 0;
      int waiting = 0;
      int refused = 0;
      for (Future<HttpResponse<String>> c : calls) {
        HttpResponse<String> r = c.get();
        switch (r.statusCode()) {
          case 200 -> ready++;
          case 202 -> waiting++;
          case 503 -> {
            refused++;
            assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.body());
          }
          default -> throw new AssertionError("unexpected " + r.statusCode() + " " + r.body());
        }
      }
      pool.shutdownNow();
      assertEquals(50, ready + waiting + refused);
      assertTrue(ready >= 1 && ready <= 6, "ready " + ready);
      assertTrue(refused >= 1, "some were turned away at max hosts");
      Await.until("every slot owned by at most one user and every owner READY", Duration.ofSeconds(60), () -> {
        Set<String> owners = new HashSet<>();
        for (Host h : hosts(f)) {
          for (SlotStatus s : h.slots()) {
            if (s.owner() != null) {
              assertTrue(owners.add(s.owner()), s.owner() + " owns two slots");
            }
          }
        }
        return owners.stream().allMatch(o -> "READY".equals(f.session(o).get("state")));
      });
      assertTrue(hosts(f).size() <= 6);
    }
  }

  @Test
  void theGlobalCapTurnsNewUsersAwayButGivesExistingOnesTheirWorkspace() {
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "1", "BERTH_MAX_WORKSPACES", "1"))) {
      f.ready("first");
      HttpResponse<String> second = f.allocate("second");
      assertEquals(503, second.statusCode(), second.body());
      assertTrue(second.headers().firstValue("Retry-After").isPresent());
      assertTrue(second.body().contains("at capacity"), second.body());
      assertEquals(200, f.allocate("first").statusCode(), "the existing workspace is returned");
    }
  }

  private static Set<String> hostIds(StackFixture f) {
    Set<String> ids = new HashSet<>();
    hosts(f).forEach(h -> ids.add(h.hostId()));
    return ids;
  }

  private static long pid(StackFixture f, String slotId) {
    String[] p = slotId.split("/");
    String v = f.stack.redis().hget(f.stack.keys().instance(p[0]), "pid." + p[1]);
    return v == null ? -1 : Long.parseLong(v);
  }

}
