package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a box shows and who runs in it, without starting one (IsolationEndToEndTest starts them). */
class SlotBoxTest {
  @TempDir
  Path dir;

  @Test
  void eachPortIsItsOwnUidAboveAnyDistributionsUsers() {
    assertEquals(SlotBox.UID_BASE + 50_000, SlotBox.uidFor(50_000));
    assertTrue(SlotBox.uidFor(65_535) < Integer.MAX_VALUE, "fits a signed int");
    assertThrows(IllegalArgumentException.class, () -> SlotBox.uidFor(0));
    assertThrows(IllegalArgumentException.class, () -> SlotBox.uidFor(65_536));
  }

  @Test
  void theBoxBindsTheSlotAndTheOwnersHomeAndNothingElseOfTheStateDirectory() throws Exception {
    Path state = Files.createDirectories(dir.resolve("state"));
    Path slot = Files.createDirectories(state.resolve("fleet/h-1/slot-0"));
    Path home = Files.createDirectories(state.resolve("users/alice-12345678"));
    Path script = Files.writeString(dir.resolve("app.py"), "print(1)");
    List<String> argv = SlotBox.forTest(state).wrap(List.of("python3", script.toString()), SlotBox.uidFor(50_001),
        slot, home, List.of(script), null);
    String joined = String.join(" ", argv);
    assertTrue(joined.contains("--bind " + slot + " " + slot), joined);
    assertTrue(joined.contains("--bind " + home + " " + home), joined);
    assertTrue(joined.contains("--ro-bind " + script + " " + script), joined);
    for (int i = 0; i < argv.size() - 2; i++) {
      if (argv.get(i).endsWith("bind")) {
        Path src = Path.of(argv.get(i + 1));
        assertTrue(!src.startsWith(state) || src.equals(slot) || src.equals(home), "binds " + src);
      }
    }
    assertEquals(1, Collections.frequency(argv, "--reuid=" + SlotBox.uidFor(50_001)));
    assertTrue(argv.containsAll(List.of("--no-new-privs", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
        "--unshare-pid")), joined);
    assertEquals(List.of("python3", script.toString()), argv.subList(argv.size() - 2, argv.size()),
        "the command comes last, unchanged");
    assertFalse(joined.contains("--share-net") || joined.contains("--dev-bind"), joined);
  }

  @Test
  void aProgramTheBoxCannotSeeIsRefusedAtStartup() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path prog = Files.writeString(bin.resolve("only-here"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(prog, PosixFilePermissions.fromString("rwxr-xr-x"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SlotBox.checkProgram("only-here", bin.toString()));
    assertTrue(e.getMessage().contains("absolute path"), e.getMessage());
    assertDoesNotThrow(() -> SlotBox.checkProgram("sh", bin + ":/usr/bin:/bin"));
    assertDoesNotThrow(() -> SlotBox.checkProgram(prog.toString(), ""), "an absolute path is shown as that file");
  }
}
