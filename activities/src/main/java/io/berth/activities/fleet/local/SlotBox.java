package io.berth.activities.fleet.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The box a local slot's process runs in: its own unprivileged uid and gid, and a filesystem view
 * that holds the system ({@code /usr}, {@code /etc} read-only), a private {@code /tmp},
 * {@code /dev} and {@code /proc} (its own pid namespace), the executables its command names, its
 * slot directory and (code-server) its owner's home — nothing of Berth's state directory, of
 * other slots or of other users.
 *
 * <p>Made with bubblewrap (mount, pid, ipc and uts namespaces, run as root so that it can bind
 * any path) and {@code setpriv} inside it (drops to the slot's uid with no capabilities, no
 * supplementary groups and no_new_privs). Both are measured to work on the build machines
 * (docs/SECURITY.md). The uid is {@link #UID_BASE} + the slot's port: ports are unique among live
 * slots on a machine, so two live slots never share a uid, even across Berth instances, and no
 * user database entry is needed (the box sees a passwd file naming it).
 *
 * <p>The network is not boxed: the gateway, the probes and the activity watcher reach the slot on
 * 127.0.0.1:<port>, which needs the machine's network namespace. The control plane is kept out of
 * reach by credentials instead (Redis password, gateway token, the embedded Temporal's peer check),
 * and, with nftables, by a {@link SlotFirewall} rule per slot (no other slot's port, nor Redis's or
 * Temporal's).
 */
public final class SlotBox {
  private static final Logger log = LoggerFactory.getLogger(SlotBox.class);
  /** Below 2^31 (some tools read uids as signed ints), above any uid a distribution hands out. */
  public static final long UID_BASE = 1_500_000_000L;
  static final Path BWRAP = Path.of("/usr/bin/bwrap");
  static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  /** What the box shows of the machine, read-only, when it exists. */
  private static final List<String> SYSTEM = List.of("/usr", "/etc", "/opt");
  private static final List<String> MERGED_USR = List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32");

  /** How a deployment boxes its slots: BERTH_ISOLATION. */
  public enum Mode {
    /** Box when the machine allows it; otherwise refuse templates that run user code unless trusted. */
    AUTO,
    /** Box, or refuse to start. */
    BOX,
    /** Never box. */
    OFF;

    public static Mode fromConfig(String value) {
      String v = value == null ? "" : value.trim().toLowerCase(java.util.Locale.ROOT);
      return switch (v) {
        case "", "auto" -> AUTO;
        case "box" -> BOX;
        case "off" -> OFF;
        default -> throw new IllegalArgumentException("BERTH_ISOLATION must be auto, box or off, got '" + value + "'");
      };
    }
  }

  private final Path stateDir;
  /** null: the slots' connections are not filtered (no nftables). */
  private volatile SlotFirewall firewall;

  private SlotBox(Path stateDir) {
    this.stateDir = stateDir.toAbsolutePath().normalize();
  }

  /** What boxed slots may connect to on this machine (null: anything). */
  public SlotBox withFirewall(SlotFirewall f) {
    this.firewall = f;
    return this;
  }

  SlotFirewall firewall() {
    return firewall;
  }

  /**
   * The box for this machine, or null when it cannot give one: why not is in {@code why}.
   * Needs root (to bind any path and give each slot its own uid), bwrap and setpriv, and a
   * trial run that works (a kernel without the namespaces, a container that forbids them).
   */
  public static SlotBox probe(Path stateDir, StringBuilder why) {
    if (!isRoot()) {
      why.append("Berth does not run as root, so it cannot give slots their own users");
      return null;
    }
    if (!Files.isExecutable(BWRAP) || !Files.isExecutable(SETPRIV)) {
      why.append("bubblewrap (").append(BWRAP).append(") or setpriv (").append(SETPRIV)
          .append(") is missing: apt-get install bubblewrap util-linux");
      return null;
    }
    SlotBox box = new SlotBox(stateDir);
    String trial = box.trial();
    if (trial != null) {
      why.append("a trial box failed: ").append(trial);
      return null;
    }
    return box;
  }

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0"); // effective uid
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** Runs {@code true} in a box as an unused uid; null when it worked, else what went wrong. */
  private String trial() {
    try {
      Path dir = Files.createTempDirectory("berth-box-trial");
      try {
        long uid = UID_BASE;
        chown(dir, uid);
        List<String> argv = wrap(List.of("/bin/true"), uid, dir, null, List.of(), null);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          return "timed out";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
      } finally {
        deleteTree(dir);
      }
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /**
   * Refuses a command whose program the box would not show: a name found on PATH only outside
   * /usr and /opt (a pyenv shim, a home directory), or a path in the state directory. The box
   * passes PATH on but shows only its directories under /usr and /opt; an absolute path outside
   * the state directory is shown as that one file.
   */
  public static void checkProgram(String program, String path) {
    if (program.contains("/")) {
      return; // absolute (CommandTemplate checks it exists): the fleet shows exactly that file
    }
    String firstAnywhere = null;
    for (String dir : path.split(":")) {
      if (dir.isEmpty() || !Files.isExecutable(Path.of(dir, program))) {
        continue;
      }
      if (SYSTEM.stream().anyMatch(s -> Path.of(dir).toAbsolutePath().normalize().startsWith(s))) {
        if (firstAnywhere != null) {
          log.warn("isolation: {} is {} outside the box but {} inside it (only PATH directories under /usr and /opt "
              + "exist there)", program, firstAnywhere, Path.of(dir, program));
        }
        return;
      }
      if (firstAnywhere == null) {
        firstAnywhere = Path.of(dir, program).toString();
      }
    }
    throw new IllegalArgumentException("command template: " + program + " is " + firstAnywhere + ", which a boxed slot "
        + "cannot see (only PATH directories under /usr and /opt exist in the box): install it there or name it by "
        + "an absolute path (docs/TEMPLATES.md)");
  }

  /** A box for tests of what it binds (no trial run). */
  static SlotBox forTest(Path stateDir) {
    return new SlotBox(stateDir);
  }

  /** The slot's uid (and gid). */
  public static long uidFor(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    return UID_BASE + port;
  }

  /**
   * Makes the slot's directories its own: the slot directory (but for its log, which only Berth
   * writes) and, when given, the owner's home, with everything under them (no symlink is followed).
   */
  void own(Path slotDir, Path userDir, long uid, String logName) throws IOException {
    chown(slotDir, uid);
    try (Stream<Path> s = Files.list(slotDir)) {
      for (Path p : s.toList()) {
        if (!p.getFileName().toString().equals(logName)) {
          chownTree(p, uid);
        }
      }
    }
    if (userDir != null) {
      chownTree(userDir, uid);
    }
  }

  /**
   * {@code argv} as the slot's uid inside its box. {@code readOnly}: extra paths the command needs
   * (executables, a code-server install); {@code passwd}: a passwd file naming the uid, bound over
   * /etc/passwd (null: none); {@code userDir}: the owner's home, bound read-write (null: none).
   */
  List<String> wrap(List<String> argv, long uid, Path slotDir, Path userDir, List<Path> readOnly, Path passwd) {
    List<String> b = new ArrayList<>(List.of(BWRAP.toString(),
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "workspace",
        "--new-session"));
    for (String dir : SYSTEM) {
      if (Files.isDirectory(Path.of(dir))) {
        b.addAll(List.of("--ro-bind", dir, dir));
      }
    }
    for (String name : MERGED_USR) {
      Path top = Path.of("/" + name);
      if (Files.isSymbolicLink(top)) {
        b.addAll(List.of("--symlink", "usr/" + name, top.toString()));
      } else if (Files.isDirectory(top)) {
        b.addAll(List.of("--ro-bind", top.toString(), top.toString()));
      }
    }
    if (passwd != null) {
      b.addAll(List.of("--ro-bind", passwd.toString(), "/etc/passwd"));
    }
    b.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"));
    Set<Path> made = new LinkedHashSet<>(List.of(Path.of("/"), Path.of("/tmp"), Path.of("/usr"), Path.of("/etc")));
    for (Path p : readOnly) {
      Path abs = p.toAbsolutePath().normalize();
      if (!underSystem(abs) && Files.exists(abs)) {
        parents(b, abs, made);
        b.addAll(List.of("--ro-bind", abs.toString(), abs.toString()));
      }
    }
    for (Path rw : userDir == null ? List.of(slotDir) : List.of(slotDir, userDir)) {
      Path abs = rw.toAbsolutePath().normalize();
      parents(b, abs, made);
      b.addAll(List.of("--bind", abs.toString(), abs.toString()));
    }
    b.addAll(List.of("--chdir", slotDir.toAbsolutePath().normalize().toString(),
        "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
        SETPRIV.toString(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"));
    b.addAll(argv);
    return b;
  }

  private static boolean underSystem(Path p) {
    return SYSTEM.stream().anyMatch(s -> p.startsWith(s));
  }

  /** Each missing parent as a traversable directory of the box's own (0711: no listing). */
  private static void parents(List<String> b, Path p, Set<Path> made) {
    List<Path> chain = new ArrayList<>();
    for (Path q = p.getParent(); q != null && !made.contains(q); q = q.getParent()) {
      chain.add(0, q);
    }
    for (Path q : chain) {
      b.addAll(List.of("--perms", "0711", "--dir", q.toString()));
      made.add(q);
    }
  }

  /** A passwd file that names root and the slot's uid (programs that look up their own user find one). */
  static void writePasswd(Path file, long uid, Path home) throws IOException {
    String text = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        + "workspace:x:" + uid + ":" + uid + ":workspace:" + home.toAbsolutePath().normalize() + ":/bin/sh\n";
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  static void chown(Path p, long uid) throws IOException {
    Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:gid", (int) uid, LinkOption.NOFOLLOW_LINKS);
  }

  private static void chownTree(Path root, long uid) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) { // does not follow symlinks
      for (Path p : s.toList()) {
        chown(p, uid);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.debug("could not delete {}", root);
    }
  }

  Path stateDir() {
    return stateDir;
  }
}
