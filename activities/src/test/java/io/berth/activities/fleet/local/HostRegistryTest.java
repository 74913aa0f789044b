package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.RedisPerClass;
import io.berth.workflows.Labels;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The group's records in a real Redis, no process started. */
class HostRegistryTest {
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  @TempDir
  Path stateDir;
  private FleetParts parts;
  private HostRegistry registry;

  @BeforeEach
  void parts() {
    LocalFleetConfig cfg = FleetParts.config(stateDir, FleetParts.sleeper(), 5).withHosts(1, 5).withSlotsPerHost(2);
    parts = new FleetParts(REDIS.client(), cfg);
    registry = parts.registry;
  }

  @AfterEach
  void clean() {
    parts.close();
  }

  @Test
  void aHostIsPendingUntilMarkedRunningAndALateWriteNeverRecreatesAGoneHost() {
    registry.recordPending("h-1", 1234);
    HostState h = registry.load("h-1");
    assertTrue(h.pending());
    assertEquals(1234, h.launchedAt());
    assertEquals(2, h.slots().size());
    assertFalse(h.protect());
    assertTrue(h.slots().stream().noneMatch(SlotState::alive), "no process yet");

    registry.markRunning("h-1");
    assertTrue(registry.load("h-1").running());
    assertTrue(registry.setProtected("h-1", true));
    assertTrue(registry.setOwner("h-1", 1, "alice"));
    assertTrue(registry.load("h-1").protect());
    assertEquals("alice", registry.ownerOf("h-1", 1));
    registry.clearOwner("h-1", 1);
    assertNull(registry.ownerOf("h-1", 1));

    registry.forget("h-1");
    assertNull(registry.load("h-1"));
    assertEquals(Set.of(), registry.ids());
    registry.markRunning("h-1");
    assertFalse(registry.setProtected("h-1", true));
    assertFalse(registry.setOwner("h-1", 0, "bob"));
    assertFalse(parts.redis.exists(parts.keys.instance("h-1")), "no write brought the gone host back");
  }

  @Test
  void aTerminationDecrementsTheDesiredCapacityOnceAndNeverBelowTheMinimum() {
    registry.setDesired(3);
    registry.recordPending("h-1", 1);
    registry.recordPending("h-2", 2);
    registry.recordPending("h-3", 3);

    assertTrue(registry.beginTermination("h-1", true));
    assertTrue(registry.load("h-1").terminating());
    assertEquals(2, registry.desired());
    assertTrue(registry.beginTermination("h-1", true), "a retry finds it terminating");
    assertEquals(2, registry.desired(), "and does not decrement again");

    assertTrue(registry.beginTermination("h-2", false));
    assertEquals(2, registry.desired(), "without decrement the group replaces it");
    assertTrue(registry.beginTermination("h-3", true));
    assertEquals(1, registry.desired());
    registry.recordPending("h-4", 4);
    assertTrue(registry.beginTermination("h-4", true));
    assertEquals(1, registry.desired(), "the minimum holds");
    assertFalse(registry.beginTermination("h-9", true), "no record, nothing to terminate");
  }

  @Test
  void theDesiredCapacityIsClampedAndALostOneKeepsWhatRuns() {
    assertEquals(1, registry.desired(), "unset: the minimum");
    registry.recordPending("h-1", 1);
    registry.recordPending("h-2", 2);
    registry.recordPending("h-3", 3);
    registry.beginTermination("h-3", false);
    registry.keepDesired();
    assertEquals(2, registry.desired(), "the two hosts up, not the terminating one");
    registry.setDesired(4);
    registry.keepDesired();
    assertEquals(4, registry.desired(), "a desired capacity that is there is kept");
    registry.setDesired(99);
    assertEquals(5, registry.desired());
    registry.setDesired(-2);
    assertEquals(1, registry.desired());
  }

  @Test
  void loadingDropsIdsWithoutARecordAndReadsEachSlotsProcessAndUser() {
    parts.redis.sadd(parts.keys.instances(), "h-5", "not-a-host");
    registry.recordPending("h-12", 1);
    registry.recordPending("h-3", 2);
    SlotProcess me = SlotProcess.of(ProcessHandle.current());
    String label = Labels.labelFor("alice");
    registry.recordProcess("h-3", 1, me, 20_123, label);

    List<HostState> hosts = registry.loadAll();
    assertEquals(List.of("h-3", "h-12"), hosts.stream().map(HostState::id).toList(), "by number, not by name");
    assertEquals(Set.of("h-3", "h-12"), registry.ids(), "the ids without a record left the set");
    SlotState s = hosts.get(0).slots().get(1);
    assertEquals(20_123, s.port());
    assertEquals(me, s.process());
    assertTrue(s.alive());
    assertEquals(label, s.userLabel());

    registry.recordProcess("h-3", 1, me, 20_124, null);
    assertNull(registry.load("h-3").slots().get(1).userLabel(), "an ownerless process runs on no one's directory");
    registry.forget("h-3");
    registry.recordProcess("h-3", 1, me, 20_124, label);
    assertNull(registry.load("h-3"), "a process recorded for a gone host does not bring it back");
  }

  @Test
  void theSequenceOnlyMovesForward() {
    assertEquals("h-1", registry.nextHostId());
    registry.raiseSequenceTo(41);
    assertEquals("h-42", registry.nextHostId());
    registry.raiseSequenceTo(7);
    assertEquals("h-43", registry.nextHostId());
  }
}
