package io.berth.activities.fleet.local;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A disposable headless browser per user, driven over the DevTools protocol (Puppeteer,
 * Playwright's {@code connectOverCDP}, any CDP client). The profile lives in the process's
 * scratch directory, so a recycled slot is a fresh browser with a fresh profile and nothing of the
 * previous user.
 *
 * <p>Activity: a DevTools client connected to the port (an established connection: CDP sessions
 * are WebSockets that stay open), or a change in the open targets (ids and URLs from
 * {@code /json/list}).
 *
 * <p>DevTools answers only requests whose Host is an IP address or {@code localhost}; behind the
 * gateway the route sends the upstream's own address as Host (BERTH_UPSTREAM_HOST=upstream, the
 * default for this template).
 */
public record ChromiumTemplate(String executable) implements Template {
  public static final String NAME = "chromium";
  static final String TARGETS_PATH = "/json/list";
  private static final Duration DEVTOOLS_TIMEOUT = Duration.ofSeconds(2);
  private static final Pattern TARGET_FIELD = Pattern.compile("\"(id|url|type)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final List<String> CANDIDATES = List.of("chromium", "chromium-browser", "google-chrome");

  public ChromiumTemplate {
    if (executable == null || !Path.of(executable).isAbsolute() || !Files.isExecutable(Path.of(executable))) {
      throw new IllegalArgumentException("chromium template needs the absolute path of an executable, got " + executable);
    }
  }

  /**
   * {@code configured}: an absolute path, a command name looked up on PATH, or null for the first
   * of chromium, chromium-browser, google-chrome on PATH.
   */
  public static ChromiumTemplate find(String configured) {
    List<String> names = configured == null || configured.isBlank() ? CANDIDATES : List.of(configured.trim());
    for (String name : names) {
      Optional<Path> p = resolve(name);
      if (p.isPresent()) {
        return new ChromiumTemplate(p.get().toString());
      }
    }
    throw new IllegalArgumentException("chromium template: no " + String.join(" or ", names)
        + " found (apt-get install chromium, or set BERTH_CHROMIUM_BIN)");
  }

  private static Optional<Path> resolve(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      return p.isAbsolute() && Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = dir.isEmpty() ? null : Path.of(dir, name);
      if (p != null && p.isAbsolute() && Files.isExecutable(p) && !Files.isDirectory(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> argv(Launch launch) {
    return List.of(executable,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=" + launch.port(),
        "--user-data-dir=" + profileDir(launch));
  }

  /**
   * In a box the browser runs as an unprivileged user that may make namespaces, so Chromium's own
   * sandbox works and {@code --no-sandbox} goes; as root (unboxed) Chromium refuses to start without it.
   */
  @Override
  public List<String> boxedArgv(Launch launch) {
    return argv(launch).stream().filter(a -> !a.equals("--no-sandbox")).toList();
  }

  static Path profileDir(Launch launch) {
    return launch.scratchDir().resolve("profile");
  }

  @Override
  public String probePath() {
    return "/json/version";
  }

  @Override
  public Optional<ActivitySignal> activitySignal() {
    return Optional.of(ChromiumTemplate::devToolsActivity);
  }

  /** Connections are counted before the fleet's own request, which would otherwise count itself. */
  private static ActivitySignal.Reading devToolsActivity(ActivitySignal.Watched slot) throws IOException {
    boolean connected = TcpConnections.established(slot.port()) > 0;
    LoopbackHttp.Answer targets = LoopbackHttp.get(slot.port(), TARGETS_PATH, DEVTOOLS_TIMEOUT);
    if (targets.status() != 200) {
      throw new IOException("DevTools answered " + targets.status());
    }
    return new ActivitySignal.Reading(targetsDigest(targets.body()), connected);
  }

  /** Ids, types and URLs of the open targets, order-independent; titles are left out (pages change their own). */
  static String targetsDigest(String json) {
    Matcher m = TARGET_FIELD.matcher(json);
    List<String> fields = new ArrayList<>();
    while (m.find()) {
      fields.add(m.group(1) + "=" + m.group(2));
    }
    fields.sort(null);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      fields.forEach(f -> sha.update((f + "\n").getBytes(StandardCharsets.UTF_8)));
      return HexFormat.of().formatHex(sha.digest()).toLowerCase(Locale.ROOT);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Established TCP connections to a local port, from the kernel's tables (Linux), leaving out
   * those whose other end is a socket of this JVM: the capacity probe's pooled keep-alive
   * connections are not a user.
   */
  static final class TcpConnections {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    private TcpConnections() {}

    /** One row: {@code local} and {@code remote} as the table writes them (hex address:port), and the socket inode. */
    record Entry(String local, String remote, String state, String inode) {}

    static int established(int port) throws IOException {
      List<Entry> entries = new ArrayList<>();
      for (Path table : TABLES) {
        try {
          entries.addAll(parse(Files.readAllLines(table, StandardCharsets.US_ASCII)));
        } catch (NoSuchFileException e) {
          // No IPv6 (or no /proc): nothing to count there.
        }
      }
      return count(entries, port, ownSocketInodes());
    }

    /** Lines look like {@code 0: 0100007F:A8D4 0100007F:C35A 01 ... uid timeout inode ...}. */
    static List<Entry> parse(List<String> lines) {
      List<Entry> entries = new ArrayList<>();
      for (String line : lines) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[0].endsWith(":") && f[1].contains(":")) {
          entries.add(new Entry(f[1], f[2], f[3], f[9]));
        }
      }
      return entries;
    }

    static int count(List<Entry> entries, int port, Set<String> ownInodes) {
      String localPort = String.format(Locale.ROOT, ":%04X", port);
      Map<String, String> inodeByEnds = new HashMap<>();
      entries.forEach(e -> inodeByEnds.put(e.local() + ">" + e.remote(), e.inode()));
      int n = 0;
      for (Entry e : entries) {
        if (e.local().endsWith(localPort) && ESTABLISHED.equals(e.state())) {
          String peer = inodeByEnds.get(e.remote() + ">" + e.local());
          if (peer == null || !ownInodes.contains(peer)) {
            n++;
          }
        }
      }
      return n;
    }

    /** Inodes of the sockets this process holds open ({@code /proc/self/fd/* -> socket:[inode]}). */
    static Set<String> ownSocketInodes() throws IOException {
      Set<String> inodes = new HashSet<>();
      Path fds = Path.of("/proc/self/fd");
      if (!Files.isDirectory(fds)) {
        return inodes;
      }
      try (Stream<Path> s = Files.list(fds)) {
        s.forEach(fd -> {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[") && target.endsWith("]")) {
              inodes.add(target.substring(8, target.length() - 1));
            }
          } catch (IOException | UnsupportedOperationException e) {
            // Closed meanwhile: not a connection of ours any more.
          }
        });
      }
      return inodes;
    }
  }
}
