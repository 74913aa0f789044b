package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodeServerTemplateTest {
  private final CodeServerTemplate t = new CodeServerTemplate(Path.of("/bin/sh"));
  @TempDir
  Path dir;

  @Test
  void theOwnersDirectoryHoldsDataExtensionsAndTheOpenedFolder() {
    Template.Launch owned = new Template.Launch(40001, Path.of("/s/slot-0"), Path.of("/s/users/vera-1a2b3c4d"),
        Path.of("/s/slot-0/run-1"), Map.of());
    assertEquals(List.of("/bin/sh", "--bind-addr", "127.0.0.1:40001", "--auth", "none", "--disable-telemetry",
        "--disable-update-check",
        "--user-data-dir", "/s/users/vera-1a2b3c4d/.local/share/code-server",
        "--extensions-dir", "/s/users/vera-1a2b3c4d/.local/share/code-server/extensions",
        "/s/users/vera-1a2b3c4d/workspace"), t.argv(owned));
    Template.Launch spare = new Template.Launch(40001, Path.of("/s/slot-0"), Map.of());
    assertEquals("/s/slot-0/workspace", t.argv(spare).get(t.argv(spare).size() - 1));
    assertTrue(t.keepsUserState());
    assertEquals("/healthz", t.probePath());
  }

  @Test
  void missingInstallSaysHowToInstall() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CodeServerTemplate(dir.resolve("bin/code-server")));
    assertTrue(e.getMessage().contains("./berth install code-server"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Templates.fromConfig("code-server", null, null));
    assertEquals(dir.resolve("tools/code-server/bin/code-server"), Templates.defaultCodeServer(dir));
  }

  @Test
  void theHeartbeatFilesMtimeIsTheReading() throws Exception {
    Path user = dir.resolve("users/u-1");
    ActivitySignal signal = t.activitySignal().orElseThrow();
    ActivitySignal.Watched w = new ActivitySignal.Watched("h-1/0", 1, 1, dir.resolve("slot-0"), user);
    assertEquals("none", signal.read(w).state());
    Path beat = Files.createDirectories(user.resolve(".local/share/code-server")).resolve("heartbeat");
    Files.writeString(beat, "");
    Files.setLastModifiedTime(beat, FileTime.fromMillis(1_000_000));
    String first = signal.read(w).state();
    Files.setLastModifiedTime(beat, FileTime.fromMillis(2_000_000));
    assertNotEquals(first, signal.read(w).state());
    t.prepare(new Template.Launch(1, dir.resolve("slot-0"), user, dir.resolve("slot-0/run-1"), Map.of()));
    assertTrue(Files.isDirectory(user.resolve("workspace")));
  }
}
