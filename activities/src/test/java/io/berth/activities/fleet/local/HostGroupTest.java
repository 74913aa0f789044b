package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.RedisPerClass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Reconciler passes run by hand over real {@code sleep} processes; no reconciler thread. */
class HostGroupTest {
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  @TempDir
  Path stateDir;
  private FleetParts parts;
  private HostGroup group;

  @BeforeEach
  void parts() {
    parts = new FleetParts(REDIS.client(), FleetParts.config(stateDir, FleetParts.sleeper(), 3));
    group = parts.group;
  }

  @AfterEach
  void clean() {
    parts.close();
  }

  private List<HostState> hosts() {
    return parts.registry.loadAll();
  }

  private long pidOf(HostState h) {
    return parts.watch(h.slots().get(0).process().pid());
  }

  @Test
  void aPassLaunchesUpToTheDesiredCapacityAndScalesInTheNewestUnprotectedHost() {
    parts.registry.setDesired(3);
    group.reconcile();
    List<HostState> up = hosts();
    assertEquals(List.of("h-1", "h-2", "h-3"), up.stream().map(HostState::id).toList());
    for (HostState h : up) {
      assertTrue(h.running());
      assertTrue(h.slots().get(0).alive());
      assertTrue(Files.isDirectory(parts.layout.slotDir(h.id(), 0)));
      assertEquals(h.id() + "/0", parts.allocator.ownerOf(h.slots().get(0).port()));
    }
    long pid1 = pidOf(up.get(0));
    long pid2 = pidOf(up.get(1));
    long pid3 = pidOf(up.get(2));
    group.reconcile();
    assertEquals(3, hosts().size(), "nothing to do at the desired capacity");

    parts.registry.setProtected("h-3", true);
    parts.registry.setDesired(2);
    group.reconcile();
    assertEquals(List.of("h-1", "h-3"), hosts().stream().map(HostState::id).toList(),
        "h-3 is protected: h-2 is the newest that may go");
    assertFalse(FleetParts.alive(pid2));
    assertFalse(Files.exists(parts.layout.hostDir("h-2")));
    assertNull(parts.allocator.ownerOf(up.get(1).slots().get(0).port()));
    parts.registry.setDesired(1);
    group.reconcile();
    assertEquals(List.of("h-3"), hosts().stream().map(HostState::id).toList());
    assertFalse(FleetParts.alive(pid1));
    assertTrue(FleetParts.alive(pid3));
  }

  @Test
  void aTerminationWithDecrementIsNotReplacedAndOneWithoutIs() {
    parts.registry.setDesired(2);
    group.reconcile();
    long pid1 = pidOf(hosts().get(0));
    pidOf(hosts().get(1));

    group.terminate("h-1", true);
    assertFalse(FleetParts.alive(pid1));
    assertEquals(1, parts.registry.desired());
    group.terminate("h-1", true);
    assertEquals(1, parts.registry.desired(), "a retry does not decrement again");
    group.reconcile();
    assertEquals(List.of("h-2"), hosts().stream().map(HostState::id).toList());

    group.terminate("h-2", false);
    group.reconcile();
    List<HostState> replaced = hosts();
    assertEquals(List.of("h-3"), replaced.stream().map(HostState::id).toList());
    pidOf(replaced.get(0));
  }

  @Test
  void destroyingEverythingKillsFromPidFilesEvenWhatNoRecordNames() throws Exception {
    parts.registry.setDesired(2);
    group.reconcile();
    List<Long> pids = hosts().stream().map(this::pidOf).toList();
    // A host whose record Redis lost, known only by its pid file.
    SlotProcess unrecorded = SlotProcess.of(parts.spawn(Map.of(), "sleep", "300").toHandle());
    parts.layout.createHost("h-9", 1, 1, "sleeper");
    parts.layout.writePidFile("h-9", 0, unrecorded, parts.allocator.first(), null);

    group.destroyAll();
    pids.forEach(pid -> assertFalse(FleetParts.alive(pid)));
    assertFalse(FleetParts.alive(unrecorded.pid()));
    assertTrue(hosts().isEmpty());
    assertTrue(parts.allocator.allocations().isEmpty());
    assertFalse(Files.exists(parts.layout.fleetDir()));
    assertTrue(parts.processes.tracked().isEmpty());
  }
}
