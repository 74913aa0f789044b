package io.berth.activities.fleet.local;

import io.berth.workflows.Labels;
import io.berth.workflows.model.Slot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local fleet on disk, under the state directory:
 * <pre>
 * fleet/h-&lt;n&gt;/host             "launchedAtMillis slots template" (a template other than the
 *                                 default: pools/&lt;template&gt;/h-&lt;n&gt;/, {@link HostGroupStore})
 * fleet/h-&lt;n&gt;/slot-&lt;i&gt;.pid      "pid start port [userLabel]"
 * fleet/h-&lt;n&gt;/slot-&lt;i&gt;.passwd   the slot's uid, for a boxed slot
 * fleet/h-&lt;n&gt;/slot-&lt;i&gt;/         the workspace's home: its log, owner and token files
 * users/&lt;label&gt;/                  an owner's own directory (templates that keep user state)
 * </pre>
 * A host directory describes its host well enough to record it again when Redis lost it.
 */
final class FleetLayout {
  static final String LOG_FILE = "workspace.log";
  /** In each host directory: "launchedAtMillis slots template". */
  private static final String HOST_FILE = "host";
  private static final String SECRET_MODE = "rw-------";
  private static final String DIR_MODE = "rwx------";
  private static final Logger log = LoggerFactory.getLogger(FleetLayout.class);

  private final Path stateDir;
  private final Path fleetDir;

  /** The default template's group. */
  FleetLayout(Path stateDir) {
    this(stateDir, stateDir.resolve(HostGroupStore.DEFAULT_DIR));
  }

  /** {@code fleetDir}: the group's host directories ({@link HostGroupStore#fleetDir}). */
  FleetLayout(Path stateDir, Path fleetDir) {
    this.stateDir = stateDir;
    this.fleetDir = fleetDir;
  }

  Path fleetDir() {
    return fleetDir;
  }

  /** Every group's directory of hosts under the state directory: the default's and each other template's. */
  static List<Path> groupDirs(Path stateDir) {
    List<Path> dirs = new ArrayList<>(List.of(stateDir.resolve(HostGroupStore.DEFAULT_DIR)));
    Path pools = stateDir.resolve(HostGroupStore.POOLS_DIR);
    listDir(pools).stream().filter(Labels::validLabel).forEach(n -> dirs.add(pools.resolve(n)));
    return dirs;
  }

  /** Whether any group has a directory for the host: ids are unique across groups. */
  boolean anyGroupHasHostDir(String hostId) {
    return groupDirs(stateDir).stream().anyMatch(d -> Files.exists(d.resolve(hostId)));
  }

  Path hostDir(String hostId) {
    return fleetDir().resolve(hostId);
  }

  Path slotDir(String hostId, int index) {
    return hostDir(hostId).resolve("slot-" + index);
  }

  Path slotDir(Slot slot) {
    return slotDir(slot.hostId(), slot.index());
  }

  /** Beside the slot directory, not in it: the slot directory is the workspace's home. */
  Path pidFile(String hostId, int index) {
    return hostDir(hostId).resolve("slot-" + index + ".pid");
  }

  Path passwdFile(String hostId, int index) {
    return hostDir(hostId).resolve("slot-" + index + ".passwd");
  }

  /**
   * The owner's own directory: named by the label (never the raw user id), outside the fleet
   * directory, so it survives recycles, terminations and shutdowns.
   */
  Path userDir(String label) {
    if (!Labels.validLabel(label)) {
      throw FleetInput.invalid("invalid label");
    }
    return stateDir.resolve("users").resolve(label);
  }

  /** The names in the fleet directory that are host ids. */
  List<String> hostIds() {
    return listDir(fleetDir()).stream().filter(FleetInput::isHostId).toList();
  }

  boolean hasHostDir(String hostId) {
    return Files.exists(hostDir(hostId));
  }

  // ---- host and pid files --------------------------------------------------------------------

  /** The host's directory (private) with its host file. */
  void createHost(String hostId, long launchedAt, int slots, String template) {
    try {
      createPrivateDir(hostDir(hostId));
      Files.writeString(hostDir(hostId).resolve(HOST_FILE), launchedAt + " " + slots + " " + template,
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not describe " + hostId + " on disk", e);
    }
  }

  /** The host file's words; none when it is missing or unreadable. */
  String[] readHostFile(String hostId) {
    return readWords(hostDir(hostId).resolve(HOST_FILE));
  }

  /** "pid start port [userLabel]": enough to record the slot again if Redis loses it. */
  void writePidFile(String hostId, int index, SlotProcess p, int port, String userLabel) throws IOException {
    Files.writeString(pidFile(hostId, index), p.format() + " " + port + (userLabel == null ? "" : " " + userLabel),
        StandardCharsets.UTF_8);
  }

  String[] readPidFile(String hostId, int index) {
    return readWords(pidFile(hostId, index));
  }

  /** Slot id → the process each pid file of the host names. */
  Map<String, SlotProcess> pidFilesOf(String hostId) {
    Map<String, SlotProcess> m = new LinkedHashMap<>();
    for (String name : listDir(hostDir(hostId))) {
      if (name.matches("slot-[0-9]{1,2}\\.pid")) {
        int index = Integer.parseInt(name.substring(5, name.length() - 4));
        try {
          SlotProcess.parse(Files.readString(hostDir(hostId).resolve(name)))
              .ifPresent(p -> m.put(Slot.idOf(hostId, index), p));
        } catch (IOException e) {
          log.debug("unreadable pid file {}/{}", hostId, name);
        }
      }
    }
    return m;
  }

  /** Slot id → process, from the pid files of every host directory. */
  Map<String, SlotProcess> pidFiles() {
    Map<String, SlotProcess> m = new LinkedHashMap<>();
    hostIds().forEach(h -> m.putAll(pidFilesOf(h)));
    return m;
  }

  // ---- slot directories ----------------------------------------------------------------------

  Path createSlotDir(String hostId, int index) throws IOException {
    return createPrivateDir(slotDir(hostId, index));
  }

  Path createUserDir(String label) throws IOException {
    return createPrivateDir(userDir(label));
  }

  /** The slot's log, after removing whatever else a slot left under its name. */
  Path logFile(Path slotDir) {
    Path logFile = slotDir.resolve(LOG_FILE);
    if (Files.exists(logFile, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(logFile, LinkOption.NOFOLLOW_LINKS)) {
      // Only Berth writes the log (as root, when slots are boxed): never through a link a slot left there.
      deleteTree(logFile);
    }
    return logFile;
  }

  /** Everything the slot's processes left, but the log: a recycled slot keeps nothing of its user. */
  void wipeSlotDir(Slot slot) {
    Path dir = slotDir(slot);
    for (String name : listDir(dir)) {
      // The log stays, unless a slot swapped it for a link or a directory.
      if (!name.equals(LOG_FILE) || !Files.isRegularFile(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(dir.resolve(name));
      }
    }
  }

  void writeOwner(Slot slot, String owner) {
    writeSecret(slotDir(slot).resolve("owner"), owner);
  }

  void deleteOwner(Slot slot) {
    deleteFile(slotDir(slot).resolve("owner"));
  }

  String[] readOwner(String hostId, int index) {
    return readWords(slotDir(hostId, index).resolve("owner"));
  }

  void writeToken(Slot slot, String token) {
    writeSecret(slotDir(slot).resolve("token"), token);
  }

  void deleteToken(Slot slot) {
    deleteFile(slotDir(slot).resolve("token"));
  }

  void deleteHost(String hostId) {
    deleteTree(hostDir(hostId));
  }

  /** The whole fleet directory; users' own directories stay. */
  void deleteFleet() {
    deleteTree(fleetDir());
  }

  // ---- files ---------------------------------------------------------------------------------

  private static Path createPrivateDir(Path dir) throws IOException {
    return Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(DIR_MODE)));
  }

  private static List<String> listDir(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String[] readWords(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).trim();
      return text.isEmpty() || text.length() > 512 ? new String[0] : text.split("\\s+");
    } catch (IOException e) {
      return new String[0];
    }
  }

  /** Written to a private temp file and moved in place, so a reader never sees half of it. */
  private static void writeSecret(Path file, String content) {
    try {
      Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(SECRET_MODE)));
      try {
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        // A boxed slot owns its directory: its files (the token) are its uid's, readable by it and root only.
        int dirOwner = (Integer) Files.getAttribute(file.getParent(), "unix:uid");
        if (dirOwner >= SlotBox.UID_BASE) {
          SlotBox.chown(tmp, dirOwner);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + file.getFileName(), e);
    }
  }

  private static void deleteFile(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + file.getFileName(), e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.debug("could not delete {}", p);
        }
      });
    } catch (IOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }
}
