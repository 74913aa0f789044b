package io.berth.activities.fleet.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a boxed slot may connect to on this machine. Slots share the machine's network namespace
 * (the gateway reaches them on 127.0.0.1), so without this a workspace could open its
 * neighbour's port around the gateway: code-server ({@code --auth none}) and Chromium's DevTools
 * answer anyone who connects. One nftables rule per slot uid, in the table {@code inet berth}
 * (shared by every Berth on the machine; each rule names only its own uid, and uids are unique
 * among live slots): a new TCP connection from that uid to a local address (any of the machine's
 * own, loopback included) on the fleet's slot ports but its own, on Redis's or on the embedded
 * Temporal's port is reset. Everything else (the internet, the API for heartbeats, the gateway)
 * stays open. Needs root and {@code nft}.
 */
public final class SlotFirewall {
  private static final Logger log = LoggerFactory.getLogger(SlotFirewall.class);
  static final Path NFT = Path.of("/usr/sbin/nft");
  private static final String TABLE = "berth";
  private static final String CHAIN = "slots";
  private static final Pattern HANDLE = Pattern.compile("comment \"berth-(\\d+)\" # handle (\\d+)");
  private final List<String> deniedPorts;

  private SlotFirewall(List<String> deniedPorts) {
    this.deniedPorts = List.copyOf(deniedPorts);
  }

  /**
   * The firewall, or null when nftables is missing or refuses (why in {@code why}).
   * {@code portFrom}-{@code portTo}: the slots' ports; {@code controlPorts}: Redis, Temporal (0: none).
   */
  public static SlotFirewall probe(int portFrom, int portTo, List<Integer> controlPorts, StringBuilder why) {
    if (!Files.isExecutable(NFT)) {
      why.append("nftables (").append(NFT).append(") is missing: apt-get install nftables");
      return null;
    }
    if (portFrom < 1 || portTo > 65535 || portFrom > portTo) {
      throw new IllegalArgumentException("port range " + portFrom + "-" + portTo);
    }
    List<String> denied = new ArrayList<>();
    denied.add(portFrom == portTo ? String.valueOf(portFrom) : portFrom + "-" + portTo);
    for (int p : controlPorts) {
      if (p > 0 && p <= 65535 && (p < portFrom || p > portTo)) {
        denied.add(String.valueOf(p));
      }
    }
    SlotFirewall fw = new SlotFirewall(denied);
    String out = fw.nft("add table inet " + TABLE)
        + fw.nft("add chain inet " + TABLE + " " + CHAIN + " { type filter hook output priority 0 ; policy accept ; }");
    if (!out.isEmpty()) {
      why.append("nft refused: ").append(out.strip());
      return null;
    }
    return fw;
  }

  /** Installs the slot's rule (replacing any left for its uid by an earlier slot on the port). */
  void allow(long uid, int ownPort) throws IOException {
    remove(uid);
    String rule = "add rule inet " + TABLE + " " + CHAIN + " meta skuid " + uid + " fib daddr type local tcp dport { "
        + String.join(", ", deniedPorts) + " } tcp dport != " + ownPort + " reject with tcp reset comment \"berth-"
        + uid + "\"";
    String out = nft(rule);
    if (!out.isEmpty()) {
      throw new IOException("nft refused the rule of uid " + uid + ": " + out.strip());
    }
  }

  /** Removes the slot's rules; best effort (a rule left behind only restricts a uid nobody uses). */
  void remove(long uid) {
    String listing = nftOut("-a", "list chain inet " + TABLE + " " + CHAIN);
    Matcher m = HANDLE.matcher(listing);
    while (m.find()) {
      if (m.group(1).equals(String.valueOf(uid))) {
        String out = nft("delete rule inet " + TABLE + " " + CHAIN + " handle " + m.group(2));
        if (!out.isEmpty()) {
          log.warn("could not delete the firewall rule of uid {}: {}", uid, out.strip());
        }
      }
    }
  }

  public String describe() {
    return deniedPorts.stream().collect(Collectors.joining(", "));
  }

  /** Runs {@code nft} with the command as its arguments (one line, no shell); returns what failed, or "". */
  private String nft(String command) {
    Result r = run(command);
    return r.exit == 0 ? "" : (r.output.isBlank() ? "exit " + r.exit : r.output);
  }

  private String nftOut(String... command) {
    Result r = run(command);
    return r.exit == 0 ? r.output : "";
  }

  private record Result(int exit, String output) {}

  private static Result run(String... command) {
    List<String> argv = new ArrayList<>();
    argv.add(NFT.toString());
    argv.addAll(List.of(command)); // nft parses one argument as a whole command line: no shell, no splitting
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "nft timed out");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
