package io.berth.activities.fleet.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * VS Code in the browser ({@code code-server}, installed by {@code ./berth install code-server}).
 * Everything of the owner lives under their own directory, which is also the process's HOME:
 * settings and state in {@code .local/share/code-server/} (the user data dir, with the
 * extensions beside it, per user: an extension is code the user chose to run), the opened folder
 * {@code workspace/}. A spare runs the same layout in its slot directory until it gets an owner;
 * then the fleet restarts it on the owner's directory ({@link #keepsUserState()}).
 *
 * <p>Activity: code-server touches {@code <user data dir>/heartbeat} at most once a minute while
 * a browser is connected or requests arrive (not for {@code /healthz}), so a changed mtime means use.
 */
public record CodeServerTemplate(Path executable) implements Template {
  public static final String NAME = "code-server";
  static final String DATA_DIR = ".local/share/code-server";
  static final String WORKSPACE_DIR = "workspace";

  public CodeServerTemplate {
    if (executable == null || !executable.isAbsolute() || !Files.isExecutable(executable)
        || Files.isDirectory(executable)) {
      throw new IllegalArgumentException("code-server is not installed at " + executable
          + ": run ./berth install code-server (or set BERTH_CODE_SERVER_BIN)");
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The owner's directory, or the slot's for a spare. */
  static Path home(Path slotDir, Path userDir) {
    return userDir != null ? userDir : slotDir;
  }

  @Override
  public void prepare(Launch launch) throws IOException {
    Files.createDirectories(home(launch.slotDir(), launch.userDir()).resolve(WORKSPACE_DIR));
  }

  @Override
  public List<String> argv(Launch launch) {
    Path home = home(launch.slotDir(), launch.userDir());
    Path data = home.resolve(DATA_DIR);
    return List.of(executable.toString(),
        "--bind-addr", "127.0.0.1:" + launch.port(),
        "--auth", "none",
        "--disable-telemetry",
        "--disable-update-check",
        "--user-data-dir", data.toString(),
        "--extensions-dir", data.resolve("extensions").toString(),
        home.resolve(WORKSPACE_DIR).toString());
  }

  /** The install directory ({@code <dir>/bin/code-server} runs Node and code-server from {@code <dir>}). */
  @Override
  public List<Path> readOnlyPaths() {
    Path bin = executable.getParent();
    return List.of(bin.getParent() != null ? bin.getParent() : bin);
  }

  @Override
  public String probePath() {
    return "/healthz";
  }

  @Override
  public boolean keepsUserState() {
    return true;
  }

  @Override
  public Optional<ActivitySignal> activitySignal() {
    return Optional.of(CodeServerTemplate::heartbeatMtime);
  }

  private static ActivitySignal.Reading heartbeatMtime(ActivitySignal.Watched slot) throws IOException {
    Path beat = home(slot.slotDir(), slot.userDir()).resolve(DATA_DIR).resolve("heartbeat");
    try {
      return new ActivitySignal.Reading(String.valueOf(Files.getLastModifiedTime(beat).toMillis()), false);
    } catch (NoSuchFileException e) {
      return new ActivitySignal.Reading("none", false);
    }
  }
}
