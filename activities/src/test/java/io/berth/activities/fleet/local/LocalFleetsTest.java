package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.store.PortAllocator;
import io.berth.testkit.Await;
import io.berth.testkit.RedisPerClass;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * A fleet of two templates, each its own host group: the default {@code demo} (two slots per
 * host) and a {@code shell} command template (one slot per host). Real processes, a private Redis,
 * bounded waits.
 */
class LocalFleetsTest {
  private static final Duration UP = Duration.ofSeconds(60);
  private static final Duration GONE = Duration.ofSeconds(20);
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();
  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private final List<LocalFleets> fleets = new ArrayList<>();
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
    fleets.forEach(LocalFleets::shutdownAll);
    for (long pid : pids) {
      Await.until("pid " + pid + " to exit", GONE, () -> !alive(pid));
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private List<LocalFleetConfig> groups() {
    LocalFleetConfig base = LocalFleetConfig.defaults(stateDir).withReconcileInterval(Duration.ofMillis(200));
    Template shell = Templates.forPool("shell", new Templates.Settings(Templates.COMMAND,
        "python3 -m http.server {port} --bind 127.0.0.1", "/", null, null));
    return List.of(base.withHosts(0, 3).withSlotsPerHost(2), base.withTemplate(shell).withHosts(0, 2).withSlotsPerHost(1));
  }

  private LocalFleets start() {
    LocalFleets f = new LocalFleets(redis, keys, ports, "demo", groups());
    fleets.add(f);
    return f.start();
  }

  /** Exactly n RUNNING hosts in the template's group, every slot's process alive and answering. */
  private List<Host> awaitRunning(LocalFleets f, String template, int n, String path) {
    List<Host> hosts = Await.value(n + " running " + template + " host(s)", UP, () -> {
      List<Host> hs = f.describe(template).hosts();
      return hs.size() == n && hs.stream().allMatch(h -> h.running()
          && h.slots().stream().allMatch(SlotStatus::alive)) ? hs : null;
    });
    hosts.forEach(h -> h.slots().forEach(s -> {
      pidOf(s.slot());
      Await.until(s.slot().slotId() + " answering", UP, () -> get(s.slot(), path) == 200);
    }));
    return hosts;
  }

  private long pidOf(Slot s) {
    long pid = Long.parseLong(redis.hget(keys.instance(s.hostId()), "pid." + s.index()));
    pids.add(pid);
    return pid;
  }

  private static int get(Slot s, String path) {
    try {
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
          .timeout(Duration.ofSeconds(5)).GET().build();
      return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(SlotProcess::running).orElse(false);
  }

  private Path shellSlotDir(Slot s) {
    return stateDir.resolve("pools").resolve("shell").resolve(s.hostId()).resolve("slot-" + s.index());
  }

  private static Stream<Slot> slots(List<Host> hosts) {
    return hosts.stream().flatMap(h -> h.slots().stream()).map(SlotStatus::slot);
  }

  // ---- tests ---------------------------------------------------------------------------------

  @Test
  void eachTemplateHasItsOwnGroupAndSlotCallsFindTheHostsGroup() throws Exception {
    LocalFleets f = start();
    f.setDesiredCapacity(1); // the default template's group
    f.setDesiredCapacity("shell", 2);
    List<Host> demo = awaitRunning(f, "demo", 1, "/healthz");
    List<Host> shell = awaitRunning(f, "shell", 2, "/");

    assertEquals(2, demo.get(0).slots().size(), "demo hosts carry two slots");
    assertTrue(shell.stream().allMatch(h -> h.slots().size() == 1), "shell hosts carry one");
    assertTrue(slots(demo).allMatch(s -> s.template().equals("demo")));
    assertTrue(slots(shell).allMatch(s -> s.template().equals("shell")), "a slot names its pool");
    FleetSnapshot shellGroup = f.describe("shell");
    assertEquals(List.of(2, 0, 2), List.of(shellGroup.desired(), shellGroup.min(), shellGroup.max()));
    FleetSnapshot all = f.describe();
    assertEquals(List.of(1, 0, 3), List.of(all.desired(), all.min(), all.max()), "the default group's sizes");
    assertEquals(3, all.hosts().stream().map(Host::hostId).distinct().count(), "host ids unique across groups");
    assertTrue(Files.isDirectory(stateDir.resolve("fleet").resolve(demo.get(0).hostId())));
    assertTrue(Files.isDirectory(stateDir.resolve("pools/shell").resolve(shell.get(0).hostId())));

    Slot s = slots(shell).findFirst().orElseThrow();
    Slot d = slots(demo).findFirst().orElseThrow();
    f.tagOwner(s, "alice");
    f.tagOwner(d, "bob");
    assertEquals("alice", f.ownerOf(s));
    assertEquals("bob", f.ownerOf(d));
    assertEquals("alice", Files.readString(shellSlotDir(s).resolve("owner")));
    f.deliverCredentials(s, "alice", "t0ken-of-alice-0123456789");
    assertEquals("t0ken-of-alice-0123456789", Files.readString(shellSlotDir(s).resolve("token")));
    f.revokeCredentials(s);
    assertFalse(Files.exists(shellSlotDir(s).resolve("token")));
    f.setProtected(s.hostId(), true);
    assertTrue(f.describe("shell").hosts().stream().filter(h -> h.hostId().equals(s.hostId()))
        .allMatch(Host::scaleInProtected));

    Slot other = slots(shell).filter(x -> !x.hostId().equals(s.hostId())).findFirst().orElseThrow();
    long before = pidOf(other);
    f.recycleSlot(other);
    long after = pidOf(f.describe("shell").hosts().stream().filter(h -> h.hostId().equals(other.hostId()))
        .findFirst().orElseThrow().slots().get(0).slot());
    assertNotEquals(before, after, "a fresh shell process");
    Await.until("the recycled shell slot answering", UP, () -> get(other, "/") == 200);

    f.terminate(other.hostId(), true);
    Await.until("the shell host gone", UP, () -> f.describe("shell").hosts().size() == 1);
    assertEquals(1, f.describe("shell").desired(), "the shell group's desired decremented");
    assertEquals(1, f.describe("demo").desired(), "the demo group's untouched");
    assertEquals(1, f.describe("demo").hosts().size());

    f.setDesiredCapacity("shell", 99);
    assertEquals(2, f.describe("shell").desired(), "clamped to the shell group's max");
    ApplicationFailure nope = assertThrows(ApplicationFailure.class, () -> f.setDesiredCapacity("nope", 1));
    assertTrue(nope.getOriginalMessage().contains("demo, shell"), nope.getOriginalMessage());
    assertTrue(f.describe("nope").hosts().isEmpty());
  }

  @Test
  void aRestartAdoptsEveryGroupAndAfterRedisLostItsDataRecordsThemAgain() {
    LocalFleets first = start();
    first.setDesiredCapacity(1);
    first.setDesiredCapacity("shell", 1);
    Map<String, Long> pidOf = new HashMap<>();
    List<Host> demo = awaitRunning(first, "demo", 1, "/healthz");
    List<Host> shell = awaitRunning(first, "shell", 1, "/");
    slots(demo).forEach(s -> pidOf.put(s.slotId(), pidOf(s)));
    slots(shell).forEach(s -> pidOf.put(s.slotId(), pidOf(s)));
    Map<Integer, String> allocations = ports.allocations();
    first.tagOwner(slots(shell).findFirst().orElseThrow(), "alice");
    first.detach();

    LocalFleets second = start();
    assertEquals(allocations, ports.allocations(), "no group's ports freed by another's adoption");
    assertAdopted(second, demo, shell, pidOf);
    assertEquals("alice", second.ownerOf(slots(shell).findFirst().orElseThrow()));
    second.detach();

    redis.flushAll(); // Redis lost its data: the host directories describe every group's hosts
    LocalFleets third = start();
    assertAdopted(third, demo, shell, pidOf);
    assertEquals("alice", third.ownerOf(slots(shell).findFirst().orElseThrow()));
    third.setDesiredCapacity("shell", 2);
    List<Host> grown = awaitRunning(third, "shell", 2, "/");
    Set<String> recovered = new HashSet<>(List.of(demo.get(0).hostId(), shell.get(0).hostId()));
    assertTrue(grown.stream().map(Host::hostId).filter(id -> !recovered.contains(id)).count() == 1,
        "the new shell host's id is none of the recovered ones: " + grown);

    third.shutdownAll();
    pidOf.values().forEach(pid -> Await.until("pid " + pid + " to exit", GONE, () -> !alive(pid)));
    assertTrue(ports.allocations().isEmpty());
    assertFalse(Files.exists(stateDir.resolve("pools/shell").resolve(shell.get(0).hostId())));
  }

  @Test
  void aHostOfAnotherTemplateInTheGroupsPlaceIsTerminatedNotAdopted() {
    LocalFleets before = start();
    before.setDesiredCapacity(1);
    Host demo = awaitRunning(before, "demo", 1, "/healthz").get(0);
    long pid = pidOf(demo.slots().get(0).slot());
    before.detach();

    // The default template is now shell: its group keeps its hosts in fleet/, where demo's host is.
    LocalFleets after = new LocalFleets(redis, keys, ports, "shell", groups());
    fleets.add(after);
    after.start();
    Await.until("demo's process in shell's place killed", GONE, () -> !alive(pid));
    assertTrue(after.describe("shell").hosts().stream().noneMatch(h -> h.hostId().equals(demo.hostId())),
        "never a shell host running demo");
    assertTrue(after.describe("demo").hosts().isEmpty());
  }

  @Test
  void theHostsOfATemplateNoLongerOfferedAreLeftAloneAndGetNoWorkspace() {
    LocalFleets before = start();
    before.setDesiredCapacity("shell", 1);
    Host shell = awaitRunning(before, "shell", 1, "/").get(0);
    Slot s = shell.slots().get(0).slot();
    long pid = pidOf(s);
    before.tagOwner(s, "alice");
    before.detach();

    LocalFleets after = new LocalFleets(redis, keys, ports, "demo", groups().subList(0, 1));
    fleets.add(after);
    after.start();
    assertTrue(after.describe().hosts().isEmpty(), "nothing adopts shell's host");
    assertEquals("alice", after.ownerOf(s));
    ApplicationFailure gone = assertThrows(ApplicationFailure.class, () -> after.tagOwner(s, "bob"));
    assertEquals("HostGone", gone.getType());
    assertThrows(ApplicationFailure.class, () -> after.setProtected(s.hostId(), true));
    after.recycleSlot(s); // a teardown's: nothing to do here
    after.tagOwner(s, null);
    after.setProtected(s.hostId(), false);
    after.terminate(s.hostId(), true);
    assertTrue(alive(pid), "alice's process is not killed by a fleet that does not offer its template");
    assertEquals(String.valueOf(pid), redis.hget(keys.instance(s.hostId()), "pid.0"));
  }

  @Test
  void clearingThePreviousRunKillsEveryGroupsProcesses() {
    LocalFleets f = start();
    f.setDesiredCapacity(1);
    f.setDesiredCapacity("shell", 1);
    List<Long> all = Stream.concat(slots(awaitRunning(f, "demo", 1, "/healthz")).map(this::pidOf),
        slots(awaitRunning(f, "shell", 1, "/")).map(this::pidOf)).toList();
    f.detach();
    assertEquals(3, LocalFleet.clearPreviousRun(stateDir));
    all.forEach(pid -> Await.until("pid " + pid + " to exit", GONE, () -> !alive(pid)));
    assertTrue(FleetLayout.groupDirs(stateDir).stream().allMatch(d -> new FleetLayout(stateDir, d).hostIds().isEmpty()));
  }

  private void assertAdopted(LocalFleets f, List<Host> demo, List<Host> shell, Map<String, Long> pidOf) {
    assertEquals(demo.stream().map(Host::hostId).toList(),
        f.describe("demo").hosts().stream().map(Host::hostId).toList());
    assertEquals(shell.stream().map(Host::hostId).toList(),
        f.describe("shell").hosts().stream().map(Host::hostId).toList());
    assertEquals(1, f.describe("shell").desired());
    Stream.concat(slots(f.describe("demo").hosts()), slots(f.describe("shell").hosts()))
        .forEach(s -> assertEquals(pidOf.get(s.slotId()), pidOf(s), s.slotId() + ": the same process, adopted"));
  }
}
