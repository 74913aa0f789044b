package io.berth.stack.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code ./berth bench [scenario...] [options]}: starts private embedded stacks, runs the named
 * scenarios (default: all), prints each table as it finishes and writes docs/BENCHMARKS.md.
 */
public final class Bench {
  static final List<String> ALL = List.of("warm", "direct", "heartbeats", "gateway", "reclaim", "memory", "capacity", "demand");
  /**
   * What fits in about ten minutes on two cores; {@code memory} (10,000 workflows), {@code gateway}
   * (two stacks, about 3 minutes) and {@code demand} (a day for 7 strategies, 10-15 minutes) run when named.
   */
  static final List<String> DEFAULT = List.of("warm", "direct", "heartbeats", "reclaim", "capacity");

  /** Connections (and sockets) of the gateway scenario's rows. */
  static final int[] GATEWAY_LEVELS = {10, 50};

  /**
   * What a section's run names besides its command: {@code machine} (CPU model, cores, memory: what a
   * reader compares figures by), the versions it ran with, and the commit measured.
   */
  record Setup(String machine, String software, String commit) {
    /** Read at the start, before the first write of the report makes the tree differ from the commit. */
    static Setup ofThisMachine() {
      return new Setup(cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + memTotal()
          + " RAM", Bench.software(), Bench.commit());
    }
  }

  private Bench() {}

  record Options(Set<String> scenarios, int warmN, int pool, boolean demo, int heartbeatSeconds, int reclaimN,
                 int[] memoryCounts, int workflowCache, int burst, Path out, String note, String command,
                 int[] levels, int gatewaySeconds, long demandSeed, int[] demandFixed) {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.err.println(usage());
      System.exit(2);
      return;
    }
    quietLogs();
    String header = header();
    Setup setup = Setup.ofThisMachine();
    System.out.println(header);
    System.out.println("bench: " + setup.machine() + "; " + setup.software() + "; commit " + setup.commit());
    Report report = new Report();
    long t0 = System.nanoTime();
    int failures = 0;
    try (PoolStack pool = new PoolStack(o.pool(), o.demo())) {
      WarmScenario warm = new WarmScenario(pool);
      List<Integer> usable = new ArrayList<>();
      for (int c : o.levels()) {
        if (c <= o.pool()) {
          usable.add(c);
        }
      }
      int[] conc = usable.stream().mapToInt(Integer::intValue).toArray();
      failures += step(report, o, setup, header, "warm", () -> warm.run(report, o.warmN(), conc));
      int[] directConc = Arrays.stream(conc).filter(c -> c <= 10).toArray();
      failures += step(report, o, setup, header, "direct",
          () -> new DirectScenario(pool).run(report, o.warmN(), directConc, warm.byConcurrency));
      failures += step(report, o, setup, header, "heartbeats",
          () -> new HeartbeatScenario(pool).run(report, o.heartbeatSeconds()));
    }
    failures += step(report, o, setup, header, "gateway",
        () -> new GatewayScenario().run(report, o.gatewaySeconds(), GATEWAY_LEVELS));
    failures += step(report, o, setup, header, "reclaim", () -> new ReclaimScenario().run(report, o.reclaimN()));
    failures += step(report, o, setup, header, "memory",
        () -> new MemoryScenario().run(report, o.memoryCounts(), o.workflowCache()));
    failures += step(report, o, setup, header, "capacity", () -> new CapacityScenario().run(report, o.burst()));
    failures += step(report, o, setup, header, "demand",
        () -> new DemandScenario().run(report, o.demandSeed(), o.demandFixed()));
    System.out.printf("%nbench: total run time %.1f min; load average at the end %s; wrote %s%n",
        (System.nanoTime() - t0) / 6e10, loadAverage(), o.out());
    System.exit(failures == 0 ? 0 : 1);
  }

  /** Tables, not activity chatter, on the console; BERTH_LOG_LEVEL=INFO brings the chatter back. */
  private static void quietLogs() {
    // Before the first logger: the stack's own logback file, as EmbeddedStack would pick it.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-stack.xml");
    }
    if (System.getenv("BERTH_LOG_LEVEL") == null
        && org.slf4j.LoggerFactory.getLogger("io.berth") instanceof ch.qos.logback.classic.Logger l) {
      l.setLevel(ch.qos.logback.classic.Level.WARN);
    }
  }

  private interface Scenario {
    void run() throws Exception;
  }

  /** Runs one scenario if selected and rewrites the report at once, so a later failure or Ctrl-C loses nothing. */
  private static int step(Report report, Options o, Setup setup, String header, String name, Scenario s) {
    if (!o.scenarios().contains(name)) {
      return 0;
    }
    String load0 = loadAverage();
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    System.out.println("bench: === " + name + " === (load average " + load0 + ")");
    long t0 = System.nanoTime();
    int before = report.sections().size();
    int failed = 0;
    try {
      s.run();
    } catch (Exception | AssertionError e) {
      e.printStackTrace(System.out);
      Report.Section sec = report.section(name, "Scenario failed");
      sec.verdict("**did not complete**: " + e);
      Report.print(sec);
      failed = 1;
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    String conditions = String.format("Took %.0f s; load average (1/5/15 min) %s at the start, %s at the end; %s%s.",
        secs, load0, loadAverage(), setup.software(), o.note().isBlank() ? "" : "; " + o.note());
    Report.Run run = new Report.Run(o.command().trim(), setup.machine(), started, setup.commit(), conditions);
    report.sections().subList(before, report.sections().size()).forEach(sec -> sec.run = run);
    System.out.printf("bench: %s took %.0f s%n", name, secs);
    try {
      report.write(o.out(), header, ALL);
    } catch (IOException e) {
      System.out.println("bench: could not write " + o.out() + ": " + e);
      failed = 1;
    }
    return failed;
  }

  static Options parse(String[] args) {
    Set<String> scenarios = new LinkedHashSet<>();
    int warmN = 200;
    int pool = 50;
    boolean demo = false;
    int hbSeconds = 20;
    int reclaimN = 100;
    int[] memory = {1_000, 10_000};
    int cache = 600;
    int burst = 50;
    Path out = Path.of("docs/BENCHMARKS.md");
    String note = "";
    int[] levels = {1, 10, 50};
    int gatewaySeconds = 4;
    long demandSeed = 18;
    int[] demandFixed = {2, 4, 8, 12, 16};
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--warm-n" -> warmN = positive(a, value(args, ++i));
        case "--pool" -> pool = positive(a, value(args, ++i));
        case "--demo" -> demo = true;
        case "--heartbeat-seconds" -> hbSeconds = positive(a, value(args, ++i));
        case "--reclaim-n" -> reclaimN = positive(a, value(args, ++i));
        case "--memory-n" -> memory = Arrays.stream(value(args, ++i).split(",")).mapToInt(v -> positive(a, v.trim()))
            .sorted().toArray();
        case "--workflow-cache" -> cache = positive(a, value(args, ++i));
        case "--burst" -> burst = positive(a, value(args, ++i));
        case "--levels" -> levels = Arrays.stream(value(args, ++i).split(",")).mapToInt(v -> positive(a, v.trim()))
            .sorted().distinct().toArray();
        case "--gateway-seconds" -> gatewaySeconds = positive(a, value(args, ++i));
        case "--demand-seed" -> demandSeed = positive(a, value(args, ++i));
        case "--demand-fixed" -> demandFixed = Arrays.stream(value(args, ++i).split(","))
            .mapToInt(v -> positive(a, v.trim())).sorted().distinct().toArray();
        case "--out" -> out = Path.of(value(args, ++i));
        case "--note" -> note = value(args, ++i);
        case "-h", "--help" -> throw new IllegalArgumentException("usage");
        default -> {
          if (!ALL.contains(a)) {
            throw new IllegalArgumentException("unknown scenario or option " + a);
          }
          scenarios.add(a);
        }
      }
    }
    if (scenarios.isEmpty()) {
      scenarios.addAll(DEFAULT);
    }
    if (reclaimN > 64 * 1000) {
      throw new IllegalArgumentException("--reclaim-n too large");
    }
    List<String> shown = new ArrayList<>(Arrays.asList(args));
    int n = shown.indexOf("--note");
    if (n >= 0) {
      shown.subList(n, Math.min(n + 2, shown.size())).clear(); // the note is shown on its own
    }
    return new Options(scenarios, warmN, pool, demo, hbSeconds, reclaimN, memory, cache, burst, out, note,
        "./berth bench " + String.join(" ", shown), levels, gatewaySeconds, demandSeed, demandFixed);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static int positive(String name, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs a positive whole number, got " + v);
    }
  }

  static String usage() {
    return String.join("\n",
        "usage: ./berth bench [warm] [direct] [heartbeats] [gateway] [reclaim] [memory] [capacity] [demand] [options]",
        "  no scenario: all but memory, gateway and demand (about 16 min on 2 idle cores); memory (10,000 workflows) takes",
        "  20+ min, gateway (two stacks: pages, WebSockets and heartbeats with a body) about 3 min, demand (one day",
        "  replayed for 7 strategies on a stepped clock) 10-15 min",
        "  --warm-n N            allocations per concurrency level, warm and direct (200)",
        "  --pool N              spares of the warm/direct/heartbeat stack (50)",
        "  --levels A,B,C        concurrencies of warm and direct (1,10,50; direct takes those up to 10)",
        "  --demo                demo template for the pool stack (default: python3 http.server per slot)",
        "  --heartbeat-seconds N seconds per heartbeat load run (20)",
        "  --gateway-seconds N   seconds per timed row of the gateway scenario (4)",
        "  --reclaim-n N         workspaces going idle together (100; the issue's figure is 1000)",
        "  --memory-n A,B        idle workspace counts for the heap figure (1000,10000)",
        "  --workflow-cache N    sticky workflow cache of the memory scenario's worker (600, the SDK default)",
        "  --burst N             users in the capacity burst (50)",
        "  --demand-seed N       seed of the demand scenario's generated day (18)",
        "  --demand-fixed A,B    fixed spare counts the demand scenario compares (2,4,8,12,16)",
        "  --out FILE            report file (docs/BENCHMARKS.md)",
        "  --note TEXT           a line about the conditions, written into the report");
  }

  static String header() {
    return "# Benchmarks\n\n"
        + "Berth's measured figures against its targets, on the machine named beside each. `./berth bench` "
        + "(`./berth bench --help` lists the scenarios and options) writes this file: "
        + "a run rewrites the sections of the scenarios it ran and the table of current figures, and keeps the "
        + "others and the sections written by hand (how to read the figures, the method).\n\n";
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String memTotal() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          return String.format("%.1f GiB", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return "? GiB";
  }

  private static String software() {
    String redis = version("redis-server", "--version").replaceAll("^Redis server v=(\\S+).*", "Redis $1");
    return "Java " + System.getProperty("java.runtime.version") + " "
        + ManagementFactory.getRuntimeMXBean().getInputArguments() + ", " + version("/usr/sbin/nginx", "-v") + ", "
        + redis;
  }

  /** {@code git rev-parse --short HEAD}, marked when tracked files differ from it; "unknown" outside a checkout. */
  private static String commit() {
    String head = output("git", "rev-parse", "--short", "HEAD");
    if (head.isEmpty() || head.contains(" ")) {
      return "unknown";
    }
    String changed = output("git", "status", "--porcelain", "--untracked-files=no");
    return changed.isEmpty() ? head : head + " + uncommitted changes";
  }

  private static String output(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? out : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return "unknown CPU";
  }

  private static String version(String program, String flag) {
    try {
      Process p = new ProcessBuilder(program, flag).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return out.lines().findFirst().orElse("?").replaceAll("^nginx version: ", "");
    } catch (IOException | InterruptedException e) {
      return program + " not found";
    }
  }
}
