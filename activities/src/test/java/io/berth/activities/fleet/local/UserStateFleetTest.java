package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.store.PortAllocator;
import io.berth.testkit.Await;
import io.berth.testkit.RedisPerClass;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * A template that keeps per-user state, on real processes: python's http.server serving the
 * directory the fleet gives it as HOME, so what a request finds says whose directory the
 * running process has.
 */
class UserStateFleetTest {
  private static final Duration UP = Duration.ofSeconds(60);
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();

  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private final List<Long> pids = new ArrayList<>();
  private LocalFleet fleet;
  @TempDir
  Path stateDir;

  /** Serves its HOME: the owner's directory once it has one, the slot's before. */
  record HomeServer() implements Template {
    @Override
    public String name() {
      return "home";
    }

    @Override
    public List<String> argv(Launch launch) {
      return List.of("python3", "-m", "http.server", String.valueOf(launch.port()), "--bind", "127.0.0.1",
          "--directory", launch.env().get("HOME"));
    }

    @Override
    public String probePath() {
      return "/";
    }

    @Override
    public boolean keepsUserState() {
      return true;
    }
  }

  @BeforeEach
  void start() {
    int first = 20_000 + ThreadLocalRandom.current().nextInt(100) * 100;
    LocalFleetConfig cfg = LocalFleetConfig.defaults(stateDir).withHosts(0, 1).withSlotsPerHost(2)
        .withReconcileInterval(Duration.ofMillis(200)).withTemplate(new HomeServer());
    fleet = new LocalFleet(redis, keys, new PortAllocator(redis, keys, first, first + 99), cfg).start();
    fleet.setDesiredCapacity(1);
  }

  @AfterEach
  void stop() {
    fleet.shutdownAll();
    pids.forEach(pid -> Await.until("pid " + pid + " to exit", Duration.ofSeconds(20),
        () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)));
  }

  private Host running() {
    return Await.value("a running host", UP, () -> {
      List<Host> hs = fleet.describe().hosts();
      return hs.size() == 1 && hs.get(0).running() && hs.get(0).slots().stream().allMatch(SlotStatus::alive)
          ? hs.get(0) : null;
    });
  }

  private long pid(Slot s) {
    long pid = Long.parseLong(redis.hget(keys.instance(s.hostId()), "pid." + s.index()));
    pids.add(pid);
    return pid;
  }

  private static int status(Slot s, String path) {
    try {
      return LoopbackHttp.get(s.port(), path, Duration.ofSeconds(2)).status();
    } catch (IOException e) {
      return 0;
    }
  }

  private Path userDir(String user) {
    return stateDir.resolve("users").resolve(Labels.labelFor(user));
  }

  private Path slotDir(Slot s) {
    return stateDir.resolve("fleet").resolve(s.hostId()).resolve("slot-" + s.index());
  }

  @Test
  void theOwnersDirectoryFollowsThemFromSlotToSlotAndNobodyElseSeesIt() throws IOException {
    Host h = running();
    Slot s0 = h.slots().get(0).slot();
    Slot s1 = h.slots().get(1).slot();
    long spare = pid(s0);
    Files.writeString(slotDir(s0).resolve("spare-leftover.txt"), "x");
    Await.until("the spare serving its slot directory", UP, () -> status(s0, "/spare-leftover.txt") == 200);

    fleet.tagOwner(s0, "alice@example.com");
    long alices = pid(s0);
    assertNotEquals(spare, alices, "tagging restarts the process on the owner's directory");
    assertFalse(ProcessHandle.of(spare).map(SlotProcess::running).orElse(false), "the spare process is gone");
    Path home = userDir("alice@example.com");
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home)));
    assertEquals(200, status(s0, "/"), "serving as soon as the tag returns");
    assertEquals(String.valueOf(s0.port()), redis.hget(keys.instance(s0.hostId()), "port." + s0.index()),
        "the owner's process keeps the port the workflow routes to");
    assertEquals(404, status(s0, "/spare-leftover.txt"), "the spare's files are gone");
    assertEquals("alice@example.com", fleet.ownerOf(s0));
    assertTrue(Files.exists(slotDir(s0).resolve("owner")), "the owner file is written after the restart");

    fleet.tagOwner(s0, "alice@example.com");
    assertEquals(alices, pid(s0), "a retried tag does not restart again");

    Files.writeString(home.resolve("notes.txt"), "mine");
    assertEquals(200, status(s0, "/notes.txt"));

    fleet.recycleSlot(s0);
    assertNotEquals(alices, pid(s0));
    Await.until("the recycled slot serving", UP, () -> status(s0, "/") == 200);
    assertEquals(404, status(s0, "/notes.txt"), "a recycled slot runs ownerless");
    assertNull(redis.hget(keys.instance(s0.hostId()), "user." + s0.index()));
    try (Stream<Path> left = Files.list(slotDir(s0))) {
      Set<String> names = Set.copyOf(left.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("run-")).toList());
      assertEquals(Set.of("workspace.log"), names, "only the log survives a recycle");
    }
    assertEquals("mine", Files.readString(home.resolve("notes.txt")), "the owner's files outlive the slot");

    fleet.tagOwner(s1, "alice@example.com");
    pid(s1);
    assertEquals(200, status(s1, "/notes.txt"), "another slot, the same files");

    fleet.tagOwner(s1, null);
    pid(s1);
    Await.until("the untagged slot serving", UP, () -> status(s1, "/") == 200);
    assertEquals(404, status(s1, "/notes.txt"), "untagged: the owner's files are no longer served");
  }

  @Test
  void usersDirectoriesSurviveTheFleetShuttingDown() throws IOException {
    Slot s = running().slots().get(0).slot();
    fleet.tagOwner(s, "bob");
    pid(s);
    Files.writeString(userDir("bob").resolve("keep.txt"), "kept");
    fleet.shutdownAll();
    assertFalse(Files.exists(stateDir.resolve("fleet").resolve(s.hostId())));
    assertEquals("kept", Files.readString(userDir("bob").resolve("keep.txt")));
  }
}
