package io.berth.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
 * How a template shows use, read the same way the local fleet's activity watcher reads it: a
 * slot is active when its reading changed since the previous one of the same token, or when a
 * client is connected. {@code command} and {@code demo} have no signal the agent can read: their
 * use is the traffic the gateway sees.
 */
interface Activity {
  /** One reading: a state whose change means use, and whether a client is connected right now. */
  record Reading(String state, boolean connected) {}

  Reading read(Slots slots, int slot) throws IOException, InterruptedException;

  static Optional<Activity> of(String template) {
    return switch (template) {
      case "code-server" -> Optional.of(Activity::codeServer);
      case "chromium" -> Optional.of(Activity::chromium);
      default -> Optional.empty();
    };
  }

  Pattern LAST_HEARTBEAT = Pattern.compile("\"lastHeartbeat\"\\s*:\\s*(\\d+)");
  Pattern TARGET_FIELD = Pattern.compile("\"(id|url|type)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  /**
   * code-server's {@code /healthz} reports {@code lastHeartbeat}, the time it last touched its
   * heartbeat file: on a request (not {@code /healthz} itself) and every minute while a browser is
   * connected. Asking it over HTTP spares the agent knowing the user data directory.
   */
  private static Reading codeServer(Slots slots, int slot) throws IOException, InterruptedException {
    String body = slots.get(slot, "/healthz");
    Matcher m = LAST_HEARTBEAT.matcher(body == null ? "" : body);
    if (!m.find()) {
      throw new IOException("code-server's /healthz has no lastHeartbeat");
    }
    return new Reading(m.group(1), false);
  }

  /**
   * Chromium is used while a DevTools client holds a connection (CDP sessions are WebSockets that
   * stay open) or when its targets changed. Connections are counted before the agent's own request.
   */
  private static Reading chromium(Slots slots, int slot) throws IOException, InterruptedException {
    boolean connected = TcpConnections.established(slots.port(slot)) > 0;
    String targets = slots.get(slot, "/json/list");
    if (targets == null) {
      throw new IOException("DevTools did not list its targets");
    }
    return new Reading(targetsDigest(targets), connected);
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
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Established TCP connections to a local port, from the kernel's tables, leaving out those whose
   * other end is a socket of the agent itself (its pooled keep-alive connections are not a user).
   */
  final class TcpConnections {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    private TcpConnections() {}

    /** One row: local and remote as the table writes them (hex address:port), the state and the socket inode. */
    record Entry(String local, String remote, String state, String inode) {}

    static int established(int port) throws IOException {
      List<Entry> entries = new ArrayList<>();
      for (Path table : TABLES) {
        try {
          entries.addAll(parse(Files.readAllLines(table, StandardCharsets.US_ASCII)));
        } catch (NoSuchFileException e) {
          // No IPv6: nothing to count there.
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
