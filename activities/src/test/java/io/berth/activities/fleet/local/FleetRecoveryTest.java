package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.RedisPerClass;
import io.berth.workflows.Labels;
import io.berth.workflows.model.Slot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What an earlier run left, made by hand: host directories, records and real processes. */
class FleetRecoveryTest {
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  @TempDir
  Path stateDir;
  private FleetParts parts;

  @BeforeEach
  void parts() {
    parts = new FleetParts(REDIS.client(), FleetParts.config(stateDir, FleetParts.sleeper(), 3));
  }

  @AfterEach
  void clean() {
    parts.close();
  }

  private SlotProcess sleeping() throws Exception {
    return SlotProcess.of(parts.spawn(Map.of(), "sleep", "300").toHandle());
  }

  /** A host directory as a launch writes it, its slot's process {@code p} on {@code port}. */
  private void hostOnDisk(String hostId, SlotProcess p, int port, String userLabel) throws Exception {
    parts.layout.createHost(hostId, 1700000000000L, 1, "sleeper");
    parts.layout.createSlotDir(hostId, 0);
    parts.layout.writePidFile(hostId, 0, p, port, userLabel);
  }

  @Test
  void aRunningHostWithoutARecordIsRecordedAgainFromItsDirectory() throws Exception {
    SlotProcess p = sleeping();
    String label = Labels.labelFor("alice");
    int port = parts.allocator.first() + 7;
    hostOnDisk("h-7", p, port, label);
    Slot slot = new Slot(Slot.idOf("h-7", 0), "h-7", 0, LocalFleet.ADDRESS, port, "sleeper");
    parts.layout.writeOwner(slot, "alice");

    assertEquals(1, parts.recovery.recoverUnrecorded());
    HostState h = parts.registry.load("h-7");
    assertTrue(h.running());
    assertTrue(h.protect(), "an owned host is kept from scale-in");
    assertEquals(1700000000000L, h.launchedAt());
    SlotState s = h.slots().get(0);
    assertEquals(p, s.process());
    assertEquals(port, s.port());
    assertEquals("alice", s.owner());
    assertEquals(label, s.userLabel());
    assertEquals("h-7/0", parts.allocator.ownerOf(port), "its port is the slot's again");
    assertEquals("h-8", parts.registry.nextHostId(), "the id is not handed out again");
    assertEquals(0, parts.recovery.recoverUnrecorded(), "recorded once");
  }

  @Test
  void aDirectoryThatDescribesNothingRunningIsAnOrphan() throws Exception {
    SlotProcess p = sleeping();
    // No host file: the launch that made it never got that far.
    Path orphan = Files.createDirectories(parts.layout.hostDir("h-3"));
    parts.layout.writePidFile("h-3", 0, p, parts.allocator.first(), null);
    // A complete description whose process is gone.
    hostOnDisk("h-4", new SlotProcess(p.pid(), p.startMillis() - 60_000), parts.allocator.first() + 1, null);

    assertEquals(0, parts.recovery.recoverUnrecorded());
    FleetParts.awaitDead(p.pid());
    assertFalse(Files.exists(orphan));
    assertFalse(Files.exists(parts.layout.hostDir("h-4")));
    assertTrue(parts.registry.ids().isEmpty());
  }

  @Test
  void adoptionKeepsRunningHostsFinishesOffTheRestAndFreesStalePorts() throws Exception {
    SlotProcess live = sleeping();
    int livePort = parts.ports.allocate("h-1/0");
    parts.registry.recordPending("h-1", 1);
    parts.layout.createHost("h-1", 1, 1, "sleeper");
    parts.registry.recordProcess("h-1", 0, live, livePort, null);
    parts.registry.markRunning("h-1");
    parts.registry.recordPending("h-2", 2);
    int stale = parts.ports.allocate("h-9/0");

    List<HostState> finishedOff = new ArrayList<>();
    parts.recovery.adopt(finishedOff::add);

    assertEquals(List.of("h-2"), finishedOff.stream().map(HostState::id).toList(), "caught mid-launch");
    assertTrue(parts.registry.load("h-2").terminating(), "marked before it is finished off");
    assertEquals(List.of(live), List.copyOf(parts.processes.tracked()), "the running host's process is adopted");
    assertTrue(FleetParts.alive(live.pid()));
    assertEquals("h-1/0", parts.allocator.ownerOf(livePort));
    assertNull(parts.allocator.ownerOf(stale), "no slot owns it any more");
  }

  @Test
  void aProcessStartedButNeverRecordedIsKilledAndTheAdoptedOnesAreLeftAlone() throws Exception {
    SlotProcess adopted = sleeping();
    parts.processes.adopt("h-1/0", adopted);
    String slotDir = parts.layout.slotDir("h-2", 0).toString();
    Process stray = parts.spawn(Map.of("BERTH_SLOT_DIR", slotDir), "sleep", "300");
    Process elsewhere = parts.spawn(Map.of("BERTH_SLOT_DIR", stateDir.resolveSibling("other").toString()),
        "sleep", "300");

    parts.recovery.killStrays();
    FleetParts.awaitDead(stray.pid());
    assertTrue(FleetParts.alive(adopted.pid()));
    assertTrue(elsewhere.isAlive(), "a process of another state directory");
  }

  @Test
  void clearingThePreviousRunKillsItsProcessesAndKeepsUsersDirectories() throws Exception {
    hostOnDisk("h-5", sleeping(), parts.allocator.first(), null);
    Process started = parts.spawn(Map.of("BERTH_SLOT_DIR", parts.layout.slotDir("h-5", 0).toString()),
        "sleep", "300");
    Path home = parts.layout.createUserDir(Labels.labelFor("bob"));

    assertEquals(1, FleetRecovery.clearPreviousRun(stateDir));
    FleetParts.awaitDead(started.pid());
    assertFalse(Files.exists(parts.layout.hostDir("h-5")));
    assertTrue(Files.isDirectory(home));
  }
}
