package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.Labels;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet's files in a temporary state directory. */
class FleetLayoutTest {
  @TempDir
  Path stateDir;
  @TempDir
  Path outside;

  private FleetLayout layout() {
    return new FleetLayout(stateDir);
  }

  private static Slot slot(String hostId, int index) {
    return new Slot(Slot.idOf(hostId, index), hostId, index, LocalFleet.ADDRESS, 20_000, "demo");
  }

  @Test
  void aHostDirectoryDescribesItsHostAndItsSlotsProcesses() throws Exception {
    FleetLayout layout = layout();
    layout.createHost("h-4", 1700000000000L, 2, "demo");
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout.hostDir("h-4"))));
    assertArrayEquals(new String[] {"1700000000000", "2", "demo"}, layout.readHostFile("h-4"));

    SlotProcess p = new SlotProcess(4242, 1700000000123L);
    String label = Labels.labelFor("alice");
    layout.writePidFile("h-4", 0, p, 20_001, null);
    layout.writePidFile("h-4", 1, p, 20_002, label);
    assertArrayEquals(new String[] {"4242", "1700000000123", "20001"}, layout.readPidFile("h-4", 0));
    assertArrayEquals(new String[] {"4242", "1700000000123", "20002", label}, layout.readPidFile("h-4", 1));
    assertEquals(0, layout.readPidFile("h-4", 2).length, "no pid file, no words");
    assertEquals(Map.of("h-4/0", p, "h-4/1", p), layout.pidFilesOf("h-4"));
  }

  @Test
  void onlyHostDirectoriesAreHostsAndOnlyWellFormedPidFilesCount() throws Exception {
    FleetLayout layout = layout();
    layout.createHost("h-1", 1, 1, "demo");
    layout.writePidFile("h-1", 0, new SlotProcess(11, 1), 20_001, null);
    Files.writeString(layout.hostDir("h-1").resolve("slot-1.pid"), "not a pid");
    Path stranger = Files.createDirectories(layout.fleetDir().resolve("not-a-host"));
    Files.writeString(stranger.resolve("slot-0.pid"), "12 1 20002");

    assertEquals(List.of("h-1"), layout.hostIds());
    assertEquals(Map.of("h-1/0", new SlotProcess(11, 1)), layout.pidFiles());
    assertTrue(layout.hasHostDir("h-1"));
    assertFalse(layout.hasHostDir("h-2"));
  }

  @Test
  void aWipedSlotKeepsOnlyItsOwnLog() throws Exception {
    FleetLayout layout = layout();
    Slot s = slot("h-1", 0);
    Path dir = layout.createSlotDir("h-1", 0);
    Files.writeString(dir.resolve(FleetLayout.LOG_FILE), "started\n");
    Files.writeString(dir.resolve("notes.txt"), "the last user's");
    Files.writeString(Files.createDirectories(dir.resolve("run-1/deep")).resolve("x"), "scratch");
    layout.writeOwner(s, "alice");

    layout.wipeSlotDir(s);
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(List.of(FleetLayout.LOG_FILE), left.map(p -> p.getFileName().toString()).toList());
    }

    Path target = Files.writeString(outside.resolve("elsewhere"), "not the slot's");
    Files.delete(dir.resolve(FleetLayout.LOG_FILE));
    Files.createSymbolicLink(dir.resolve(FleetLayout.LOG_FILE), target);
    layout.wipeSlotDir(s);
    assertFalse(Files.exists(dir.resolve(FleetLayout.LOG_FILE), LinkOption.NOFOLLOW_LINKS), "a log swapped for a link goes");
    assertEquals("not the slot's", Files.readString(target), "and what it pointed at stays");
  }

  @Test
  void theLogIsNeverWrittenThroughALinkTheSlotLeft() throws Exception {
    FleetLayout layout = layout();
    Path dir = layout.createSlotDir("h-1", 0);
    Path target = Files.writeString(outside.resolve("victim"), "keep");
    Files.createSymbolicLink(dir.resolve(FleetLayout.LOG_FILE), target);

    Path log = layout.logFile(dir);
    assertEquals(dir.resolve(FleetLayout.LOG_FILE), log);
    assertFalse(Files.exists(log, LinkOption.NOFOLLOW_LINKS));
    assertEquals("keep", Files.readString(target));
    Files.writeString(log, "mine");
    assertEquals(log, layout.logFile(dir), "a regular log stays");
    assertEquals("mine", Files.readString(log));
  }

  @Test
  void secretsArePrivateAndReplacedWhole() throws Exception {
    FleetLayout layout = layout();
    Slot s = slot("h-2", 1);
    Path dir = layout.createSlotDir("h-2", 1);
    layout.writeOwner(s, "alice");
    layout.writeToken(s, "tok_" + "a".repeat(30));
    layout.writeOwner(s, "bob");
    assertEquals("bob", Files.readString(dir.resolve("owner")));
    assertArrayEquals(new String[] {"bob"}, layout.readOwner("h-2", 1));
    for (String name : List.of("owner", "token")) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))));
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
    }
    layout.deleteToken(s);
    layout.deleteToken(s);
    layout.deleteOwner(s);
    assertFalse(Files.exists(dir.resolve("token")));
    assertFalse(Files.exists(dir.resolve("owner")));
  }

  @Test
  void usersDirectoriesAreNamedByLabelsAndOutliveTheFleet() throws Exception {
    FleetLayout layout = layout();
    String label = Labels.labelFor("alice");
    Path home = layout.createUserDir(label);
    assertEquals(stateDir.resolve("users").resolve(label), home);
    ApplicationFailure e = assertThrows(ApplicationFailure.class, () -> layout.userDir("../etc"));
    assertEquals("InvalidInput", e.getType());

    layout.createHost("h-1", 1, 1, "demo");
    layout.deleteHost("h-1");
    assertFalse(Files.exists(layout.hostDir("h-1")));
    layout.createHost("h-2", 1, 1, "demo");
    layout.deleteFleet();
    assertFalse(Files.exists(layout.fleetDir()));
    assertTrue(Files.isDirectory(home));
  }
}
