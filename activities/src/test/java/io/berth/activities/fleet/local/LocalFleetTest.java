package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.activities.store.PortAllocator;
import io.berth.testkit.Await;
import io.berth.testkit.PrivateRedis;
import io.berth.testkit.RedisPerClass;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/** Real processes on loopback ports, real Redis; every wait is bounded. */
class LocalFleetTest {
  private static final Duration UP = Duration.ofSeconds(60);
  private static final Duration GONE = Duration.ofSeconds(20);
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private final List<LocalFleet> fleets = new ArrayList<>();
  private final Set<Long> pids = new HashSet<>();
  private PortAllocator ports;
  @TempDir
  Path stateDir;

  @BeforeEach
  void fresh() {
    int first = 20_000 + ThreadLocalRandom.current().nextInt(100) * 100;
    ports = new PortAllocator(redis, keys, first, first + 99);
  }

  @AfterEach
  void nothingLeftBehind() {
    fleets.forEach(LocalFleet::shutdownAll);
    for (long pid : pids) {
      Await.until("pid " + pid + " to exit", GONE, () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private LocalFleetConfig config(int min, int max, int slots) {
    return LocalFleetConfig.defaults(stateDir).withHosts(min, max).withSlotsPerHost(slots)
        .withReconcileInterval(Duration.ofMillis(200));
  }

  private LocalFleet fleet(LocalFleetConfig cfg) {
    return fleet(cfg, redis);
  }

  private LocalFleet fleet(LocalFleetConfig cfg, RedisClient r) {
    LocalFleet f = new LocalFleet(r, keys, new PortAllocator(r, keys, ports.first(), ports.last()), cfg);
    fleets.add(f);
    return f.start();
  }

  /** Exactly n RUNNING hosts whose slots all have a live process, each answering /healthz. */
  private List<Host> awaitRunning(LocalFleet f, int n) {
    List<Host> hosts = Await.value(n + " running host(s)", UP, () -> {
      List<Host> hs = f.describe().hosts();
      boolean ready = hs.size() == n && hs.stream().allMatch(h -> h.running()
          && h.slots().stream().allMatch(SlotStatus::alive));
      return ready ? hs : null;
    });
    for (Host h : hosts) {
      for (SlotStatus s : h.slots()) {
        pidOf(s.slot());
        awaitHealthy(s.slot());
      }
    }
    return hosts;
  }

  private void awaitHealthy(Slot s) {
    Await.until(s.slotId() + " answering /healthz", UP, () -> {
      HttpResponse<String> r = get(s, "/healthz");
      return r.statusCode() == 200 && r.body().equals("ok");
    });
  }

  private static HttpResponse<String> get(Slot s, String path) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).GET());
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return http.send(b.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private long pidOf(Slot s) {
    long pid = Long.parseLong(redis.hget(keys.instance(s.hostId()), "pid." + s.index()));
    pids.add(pid);
    return pid;
  }

  /** Running, not a zombie: this JVM reaps its children a moment after they exit. */
  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(SlotProcess::running).orElse(false);
  }

  private static void awaitDead(long pid) {
    Await.until("pid " + pid + " to exit", GONE, () -> !alive(pid));
  }

  private static Slot slot(Host h, int index) {
    return h.slots().get(index).slot();
  }

  private Path slotDir(Slot s) {
    return stateDir.resolve("fleet").resolve(s.hostId()).resolve("slot-" + s.index());
  }

  // ---- tests ---------------------------------------------------------------------------------

  @Test
  void scalesOutTagsAndScalesInAroundAProtectedHost() throws Exception {
    LocalFleet f = fleet(config(0, 2, 1));
    assertEquals(0, f.describe().desired());
    f.setDesiredCapacity(2);
    List<Host> hosts = awaitRunning(f, 2);
    FleetSnapshot snap = f.describe();
    assertEquals(2, snap.desired());
    assertEquals(0, snap.min());
    assertEquals(2, snap.max());
    assertTrue(hosts.stream().allMatch(h -> h.address().equals("127.0.0.1")));
    Slot a = slot(hosts.get(0), 0);
    Slot b = slot(hosts.get(1), 0);
    assertNotEquals(a.port(), b.port());
    assertEquals(Map.of(a.port(), a.slotId(), b.port(), b.slotId()), ports.allocations());

    f.tagOwner(a, "alice");
    assertEquals("alice", f.ownerOf(a));
    assertEquals("alice", Files.readString(slotDir(a).resolve("owner")));
    assertEquals("alice", f.describe().hosts().get(0).slots().get(0).owner());
    f.setProtected(a.hostId(), true);
    assertTrue(f.describe().hosts().get(0).scaleInProtected());

    long pidA = pidOf(a);
    long pidB = pidOf(b);
    f.setDesiredCapacity(0);
    Await.until("the unprotected host to go", UP, () -> f.describe().hosts().size() == 1);
    awaitDead(pidB);
    assertEquals(a.hostId(), f.describe().hosts().get(0).hostId(), "the protected host survives scale-in");
    assertTrue(alive(pidA));
    awaitHealthy(a);
    assertEquals(0, f.describe().desired());
    assertFalse(Files.exists(slotDir(b)), "a terminated host leaves no directory");

    f.setDesiredCapacity(-3);
    assertEquals(0, f.describe().desired(), "clamped to min");
    f.setDesiredCapacity(99);
    assertEquals(2, f.describe().desired(), "clamped to max");
    List<Host> after = awaitRunning(f, 2);
    assertEquals(a.hostId(), after.get(0).hostId());
    assertNotEquals(b.hostId(), after.get(1).hostId(), "a new host, not the terminated one");

    f.tagOwner(a, null);
    assertNull(f.ownerOf(a));
    assertFalse(Files.exists(slotDir(a).resolve("owner")));
  }

  @Test
  void terminateWithDecrementLowersDesiredOnceAndWithoutDecrementGetsReplaced() {
    LocalFleet f = fleet(config(0, 3, 1));
    f.setDesiredCapacity(2);
    List<Host> hosts = awaitRunning(f, 2);
    String h1 = hosts.get(0).hostId();
    String h2 = hosts.get(1).hostId();
    long pid1 = pidOf(slot(hosts.get(0), 0));
    String seq = redis.get(keys.hostSequence());

    f.terminate(h1, true);
    awaitDead(pid1);
    assertEquals(1, f.describe().desired());
    assertEquals(List.of(h2), f.describe().hosts().stream().map(Host::hostId).toList());
    assertFalse(ports.allocations().containsValue(Slot.idOf(h1, 0)), "its port is free again");
    f.reconcile();
    assertEquals(seq, redis.get(keys.hostSequence()), "no replacement for a decremented termination");

    f.terminate(h1, true);
    assertEquals(1, f.describe().desired(), "a retried terminate does not decrement twice");

    f.terminate(h2, false);
    assertEquals(1, f.describe().desired());
    List<Host> replaced = awaitRunning(f, 1);
    assertFalse(Set.of(h1, h2).contains(replaced.get(0).hostId()), "the fleet launched a replacement");
  }

  @Test
  void recycleSlotStartsAFreshProcessOnTheSamePort() {
    LocalFleet f = fleet(config(0, 1, 2));
    f.setDesiredCapacity(1);
    Host h = awaitRunning(f, 1).get(0);
    Slot s0 = slot(h, 0);
    Slot s1 = slot(h, 1);
    long old = pidOf(s0);
    long other = pidOf(s1);
    f.tagOwner(s0, "alice");
    f.deliverCredentials(s0, "alice", "tok_" + "x".repeat(40));

    f.recycleSlot(s0);
    long fresh = pidOf(s0);
    assertNotEquals(old, fresh);
    assertFalse(alive(old), "the old process is gone before the new one starts");
    SlotStatus after = f.describe().hosts().get(0).slots().get(0);
    assertEquals(s0, after.slot(), "same slot, same port");
    awaitHealthy(s0);
    assertNull(after.owner());
    assertFalse(Files.exists(slotDir(s0).resolve("owner")));
    assertFalse(Files.exists(slotDir(s0).resolve("token")));
    assertEquals(other, pidOf(s1), "the other slot is untouched");
  }

  @Test
  void credentialsReachThePageAndTheHeartbeatCarriesTheToken() throws Exception {
    ConcurrentLinkedQueue<String> auth = new ConcurrentLinkedQueue<>();
    HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    api.createContext("/api/heartbeat", ex -> {
      if (ex.getRequestMethod().equals("POST")) {
        auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      }
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    api.start();
    try {
      LocalFleet f = fleet(config(0, 1, 1).withApiUrl("http://127.0.0.1:" + api.getAddress().getPort() + "/"));
      f.setDesiredCapacity(1);
      Slot s = slot(awaitRunning(f, 1).get(0), 0);

      assertTrue(get(s, "/").body().contains("Workspace of spare"));
      HttpResponse<String> activity = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/activity"))
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertEquals(204, activity.statusCode());

      String token = "tok-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "_abcdefghijkl";
      f.deliverCredentials(s, "bob <b>&", token);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(slotDir(s).resolve("token"))));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(slotDir(s).resolve("owner"))));

      String page = get(s, "/").body();
      assertTrue(page.contains("Workspace of bob &lt;b&gt;&amp;"), page);
      assertFalse(page.contains("<b>"), "the owner is escaped");
      assertFalse(page.contains(token), "the token never reaches the browser");
      assertTrue(page.contains("fetch('/activity'"));

      Await.until("a heartbeat at the fake API", GONE, () -> !auth.isEmpty());
      assertEquals(Set.of("Bearer " + token), Set.copyOf(auth), "every heartbeat carries the token, none came before it");

      f.revokeCredentials(s);
      assertFalse(Files.exists(slotDir(s).resolve("token")));
      f.revokeCredentials(s);
    } finally {
      api.stop(0);
    }
  }

  @Test
  void aRestartedFleetAdoptsRunningHostsAndShutdownLeavesNoProcess() throws Exception {
    LocalFleetConfig cfg = config(0, 3, 1);
    LocalFleet first = fleet(cfg);
    first.setDesiredCapacity(2);
    List<Host> hosts = awaitRunning(first, 2);
    Map<String, Long> before = Map.of(hosts.get(0).hostId(), pidOf(slot(hosts.get(0), 0)),
        hosts.get(1).hostId(), pidOf(slot(hosts.get(1), 0)));
    String seq = redis.get(keys.hostSequence());
    first.detach();

    LocalFleet second = fleet(cfg);
    second.reconcile();
    List<Host> adopted = awaitRunning(second, 2);
    for (Host h : adopted) {
      assertEquals(before.get(h.hostId()), pidOf(slot(h, 0)), "same process, not a new launch");
    }
    assertEquals(seq, redis.get(keys.hostSequence()), "no host was launched");
    assertEquals(2, second.describe().desired());

    second.shutdownAll();
    before.values().forEach(LocalFleetTest::awaitDead);
    assertTrue(redis.smembers(keys.instances()).isEmpty());
    assertTrue(ports.allocations().isEmpty());
    assertFalse(Files.exists(stateDir.resolve("fleet")));
  }

  /** A fleet with one running host, detached: what a worker that stopped leaves for the next one. */
  private Host oneHostLeftRunning(LocalFleetConfig cfg) {
    LocalFleet first = fleet(cfg);
    first.setDesiredCapacity(1);
    Host h = awaitRunning(first, 1).get(0);
    first.detach();
    return h;
  }

  @Test
  void adoptionReplacesDeadHostsAndKillsOrphans() throws Exception {
    LocalFleetConfig cfg = config(0, 2, 1);
    Host h = oneHostLeftRunning(cfg);
    long pid = pidOf(slot(h, 0));
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    awaitDead(pid);

    // A host directory Redis does not know (Redis lost its keys): its process must not outlive us.
    Process orphan = new ProcessBuilder("sleep", "300").start();
    pids.add(orphan.pid());
    Path orphanDir = Files.createDirectories(stateDir.resolve("fleet").resolve("h-999"));
    Files.writeString(orphanDir.resolve("slot-0.pid"), SlotProcess.of(orphan.toHandle()).format());

    LocalFleet second = fleet(cfg);
    awaitDead(orphan.pid());
    assertFalse(Files.exists(orphanDir));
    Host replacement = awaitRunning(second, 1).get(0);
    assertNotEquals(h.hostId(), replacement.hostId(), "a host with nothing alive is replaced");
  }

  /**
   * A worker killed between starting a slot's process and recording it (no pid file, no record)
   * left a process that only its environment ties to the fleet: the next fleet kills it, and
   * leaves the adopted hosts' processes (and their children) alone.
   */
  @Test
  void adoptionKillsAProcessStartedButNeverRecorded() throws Exception {
    LocalFleetConfig cfg = config(0, 2, 1);
    long adoptedPid = pidOf(slot(oneHostLeftRunning(cfg), 0));

    Path fleetDir = stateDir.resolve("fleet");
    ProcessBuilder pb = new ProcessBuilder("sleep", "300");
    pb.environment().put("BERTH_SLOT_DIR", fleetDir.resolve("h-2").resolve("slot-0").toString());
    Process stray = pb.start();
    pids.add(stray.pid());
    // Not ours: the same variable pointing elsewhere.
    ProcessBuilder other = new ProcessBuilder("sleep", "300");
    other.environment().put("BERTH_SLOT_DIR", stateDir.resolveSibling("elsewhere").resolve("slot-0").toString());
    Process unrelated = other.start();
    try {
      fleet(cfg);
      awaitDead(stray.pid());
      assertTrue(ProcessHandle.of(adoptedPid).map(ProcessHandle::isAlive).orElse(false), "the adopted process runs on");
      assertTrue(unrelated.isAlive(), "a process of another state directory is left alone");
    } finally {
      unrelated.destroyForcibly();
    }
  }

  /** Redis restarts without persistence under a running fleet: what runs is recorded again, not lost. */
  @Test
  void afterRedisLosesItsDataTheRunningHostsAreRecordedAgainFromTheirDirectories() {
    LocalFleet f = fleet(config(0, 4, 2));
    f.setDesiredCapacity(2);
    List<Host> hosts = awaitRunning(f, 2);
    Slot owned = slot(hosts.get(0), 1);
    f.tagOwner(owned, "alice");
    f.setProtected(owned.hostId(), true);
    Map<String, Long> pidBySlot = new java.util.HashMap<>();
    Map<String, Integer> portBySlot = new java.util.HashMap<>();
    hosts.forEach(h -> h.slots().forEach(s -> {
      pidBySlot.put(s.slot().slotId(), pidOf(s.slot()));
      portBySlot.put(s.slot().slotId(), s.slot().port());
    }));
    long highest = Long.parseLong(redis.get(keys.hostSequence()));

    redis.flushAll();

    List<Host> again = awaitRunning(f, 2);
    for (Host h : again) {
      for (SlotStatus s : h.slots()) {
        assertEquals(pidBySlot.get(s.slot().slotId()), pidOf(s.slot()), "the same process, not a new one");
        assertEquals(portBySlot.get(s.slot().slotId()), s.slot().port());
        assertEquals(s.slot().slotId(), ports.ownerOf(s.slot().port()), "its port allocated again");
      }
      assertEquals(h.hostId().equals(owned.hostId()), h.scaleInProtected(), "protected exactly when owned");
    }
    assertEquals("alice", f.ownerOf(owned));
    assertEquals(2, f.describe().desired(), "what runs is kept, not scaled in");
    assertTrue(Long.parseLong(redis.get(keys.hostSequence())) >= highest, "host ids are not reused");

    f.setDesiredCapacity(3);
    List<Host> three = awaitRunning(f, 3);
    assertEquals(3, three.stream().map(Host::hostId).distinct().count());
    pidBySlot.values().forEach(pid -> assertTrue(alive(pid), "pid " + pid + " survived the launch"));
  }

  @Test
  void aSlotWithAnOwnerIsNotTaggedForAnother() {
    LocalFleet f = fleet(config(0, 1, 1));
    f.setDesiredCapacity(1);
    Slot s = slot(awaitRunning(f, 1).get(0), 0);
    f.tagOwner(s, "alice");
    f.tagOwner(s, "alice");
    io.temporal.failure.ApplicationFailure e = org.junit.jupiter.api.Assertions.assertThrows(
        io.temporal.failure.ApplicationFailure.class, () -> f.tagOwner(s, "bob"));
    assertEquals("SlotTaken", e.getType());
    assertTrue(e.isNonRetryable());
    assertFalse(e.getOriginalMessage().contains("alice"), "the owner's id stays out of the other's history");
    assertEquals("alice", f.ownerOf(s));
  }

  /** A per-user template's owner process runs on the owner's directory; after a Redis loss it still does, untouched. */
  @Test
  void aPerUserProcessIsRecordedAgainWithItsUserAndNotRestarted() {
    DemoTemplate demo = DemoTemplate.ofThisJvm();
    Template perUser = new Template() {
      @Override
      public String name() {
        return demo.name();
      }

      @Override
      public List<String> argv(Launch launch) {
        return demo.argv(launch);
      }

      @Override
      public String probePath() {
        return demo.probePath();
      }

      @Override
      public boolean keepsUserState() {
        return true;
      }
    };
    LocalFleet f = fleet(config(0, 2, 1).withTemplate(perUser));
    f.setDesiredCapacity(1);
    Slot s = slot(awaitRunning(f, 1).get(0), 0);
    f.tagOwner(s, "bea");
    long ownersPid = pidOf(s);
    String user = redis.hget(keys.instance(s.hostId()), "user.0");
    assertEquals(io.berth.workflows.Labels.labelFor("bea"), user);

    redis.flushAll();

    Await.until("the host recorded again", UP, () -> redis.sismember(keys.instances(), s.hostId()));
    assertEquals(user, redis.hget(keys.instance(s.hostId()), "user.0"), "still the owner's process");
    f.tagOwner(s, "bea");
    assertEquals(ownersPid, pidOf(s), "a retried tag does not restart the owner's process");
  }

  @Test
  void aFleetStartedAfterRedisLostItsDataAdoptsTheHostsFromTheirDirectories() {
    LocalFleetConfig cfg = config(0, 3, 1);
    LocalFleet first = fleet(cfg);
    first.setDesiredCapacity(1);
    Host h = awaitRunning(first, 1).get(0);
    long pid = pidOf(slot(h, 0));
    first.detach();
    redis.flushAll();

    LocalFleet second = fleet(cfg);
    Host adopted = awaitRunning(second, 1).get(0);
    assertEquals(h.hostId(), adopted.hostId());
    assertEquals(pid, pidOf(slot(adopted, 0)), "adopted, not launched again");
    assertEquals(1, second.describe().desired());
  }

  @Test
  void shutdownKillsEverythingEvenWhenRedisIsGone() {
    try (PrivateRedis own = PrivateRedis.start(); RedisClient r = RedisClient.create(own.url())) {
      LocalFleet f = fleet(config(0, 1, 2), r);
      f.setDesiredCapacity(1);
      Host h = Await.value("a running host", UP, () -> {
        List<Host> hs = f.describe().hosts();
        return hs.size() == 1 && hs.get(0).running() && hs.get(0).slots().stream().allMatch(SlotStatus::alive)
            ? hs.get(0) : null;
      });
      List<Long> mine = h.slots().stream()
          .map(s -> Long.parseLong(r.hget(keys.instance(h.hostId()), "pid." + s.slot().index()))).toList();
      pids.addAll(mine);
      own.stop();
      f.shutdownAll();
      mine.forEach(LocalFleetTest::awaitDead);
    }
  }

  @Test
  void shutdownKillsWhatTemplateProcessesStarted() {
    String script = "import subprocess, sys, http.server; subprocess.Popen([\"sleep\", \"300\"]); "
        + "http.server.HTTPServer((\"127.0.0.1\", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)"
        + ".serve_forever()";
    Template spawning = CommandTemplate.parse("command", "python3 -c '" + script + "' {port}", "/");
    LocalFleet f = fleet(config(0, 1, 1).withTemplate(spawning));
    f.setDesiredCapacity(1);
    Slot s = slot(Await.value("a running host", UP, () -> {
      List<Host> hs = f.describe().hosts();
      return hs.size() == 1 && hs.get(0).running() && hs.get(0).slots().get(0).alive() ? hs.get(0) : null;
    }), 0);
    long parent = pidOf(s);
    Await.until("python answering", UP, () -> get(s, "/").statusCode() == 200);
    List<Long> children = ProcessHandle.of(parent).orElseThrow().descendants().map(ProcessHandle::pid).toList();
    assertEquals(1, children.size(), "the template started its own child");
    pids.addAll(children);

    f.shutdownAll();
    awaitDead(parent);
    children.forEach(LocalFleetTest::awaitDead);
  }

  @Test
  void aCommandTemplateRunsWithoutAShell() {
    Template python = CommandTemplate.parse("command", "python3 -m http.server {port} --bind 127.0.0.1", "/");
    LocalFleet f = fleet(config(0, 1, 1).withTemplate(python));
    f.setDesiredCapacity(1);
    Host h = Await.value("a running host", UP, () -> {
      List<Host> hs = f.describe().hosts();
      return hs.size() == 1 && hs.get(0).running() && hs.get(0).slots().get(0).alive() ? hs.get(0) : null;
    });
    Slot s = slot(h, 0);
    pidOf(s);
    assertEquals("command", s.template());
    Await.until("python answering", UP, () -> get(s, "/").statusCode() == 200);
  }
}
