package io.berth.stack.bench;

import com.sun.management.OperatingSystemMXBean;
import io.berth.workflows.WorkspaceWorkflow;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code heartbeats}: sustained POST /api/heartbeat with the workspaces' real tokens. The load
 * comes from {@code wrk} in its own process when it is installed (so the stack JVM's CPU is the
 * stack's alone), and from a raw-socket generator in this JVM whose own threads' CPU is
 * subtracted.
 */
final class HeartbeatScenario {
  private final PoolStack pool;

  HeartbeatScenario(PoolStack pool) {
    this.pool = pool;
  }

  private record Run(String generator, int connections, double seconds, long requests, long errors, double jvmCpuMs,
                     double redisCpuMs, long signals, String latency) {}

  void run(Report report, int seconds) throws Exception {
    BenchStack s = pool.stack();
    List<String> users = new ArrayList<>();
    for (int i = 0; i < pool.size; i++) {
      users.add("hb-" + i);
    }
    Rounds.parallel(users, 10, u -> WarmScenario.allocate(s, u));
    List<String> tokens = new ArrayList<>();
    for (String u : users) {
      tokens.add(s.workspaceToken(u));
    }
    // Warm-up: JIT of the hot path, connection setup.
    inJvm(s, tokens, 16, 3);
    List<Run> runs = new ArrayList<>();
    String wrk = wrk();
    if (wrk != null) {
      runs.add(measure(s, users, "wrk (separate process), 2 threads", 64, seconds,
          () -> wrkRun(wrk, s, tokens, 64, seconds)));
    }
    runs.add(measure(s, users, "in-JVM raw sockets (generator CPU subtracted)", 32, seconds,
        () -> inJvm(s, tokens, 32, seconds)));
    pool.releaseAll(users);

    Report.Section sec = report.section("heartbeats", "Heartbeat throughput");
    sec.text("POST /api/heartbeat with the " + users.size() + " workspaces' own tokens (read from the slots' token "
        + "files), keep-alive connections, " + seconds + " s per generator after a 3 s warm-up. Coalescing window: 5 s "
        + "(the default would be idle timeout / 10, at most 30 s), so a run crosses a few windows. "
        + "CPU is the stack JVM's process CPU time "
        + "(API + worker + embedded Temporal server, all in one JVM) per 1,000 heartbeats: with `wrk` the load "
        + "generator is another process, so nothing is subtracted; with the in-JVM generator its threads' own CPU "
        + "time (ThreadMXBean) is subtracted. Redis CPU from INFO cpu. Signals: `heartbeat` signals counted in the "
        + "workflows' histories during the run.");
    List<List<String>> rows = new ArrayList<>();
    for (Run r : runs) {
      rows.add(List.of(r.generator(), String.valueOf(r.connections()), String.format("%,d", r.requests()),
          String.format("%,.0f/s", r.requests() / r.seconds()), String.valueOf(r.errors()), r.latency(),
          String.format("%.0f ms", r.jvmCpuMs() / (r.requests() / 1000.0)),
          String.format("%.0f ms", r.redisCpuMs() / (r.requests() / 1000.0)),
          String.valueOf(r.signals()),
          r.signals() == 0 ? "-" : String.format("%,.0f", r.requests() / (double) r.signals())));
    }
    sec.table(List.of("generator", "connections", "heartbeats", "rate", "errors", "latency p50 / p99",
        "stack JVM CPU per 1,000", "Redis CPU per 1,000", "workflow signals", "heartbeats per signal"), rows);
    Run best = runs.get(0);
    sec.target("heartbeats/s (" + best.generator() + ")", best.requests() / best.seconds(), 2000, "/s", false);
    Report.print(sec);
  }

  private interface Load {
    long[] run() throws Exception; // requests, errors, generatorCpuNanos, p50 micros, p99 micros
  }

  private Run measure(BenchStack s, List<String> users, String name, int conns, int seconds, Load load)
      throws Exception {
    long signals0 = signals(s, users);
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double redis0 = redisCpuSeconds(s);
    long cpu0 = os.getProcessCpuTime();
    long[] r = load.run();
    long cpu1 = os.getProcessCpuTime();
    double redis1 = redisCpuSeconds(s);
    BenchStack.sleep(500); // let queued signals land before counting
    long signals = signals(s, users) - signals0;
    double jvmMs = (cpu1 - cpu0 - r[2]) / 1e6;
    String latency = r[3] < 0 ? "-" : String.format("%.1f / %.1f ms", r[3] / 1000.0, r[4] / 1000.0);
    System.out.printf("bench: heartbeats via %s: %,d in %d s, %d errors%n", name, r[0], seconds, r[1]);
    return new Run(name, conns, seconds, r[0], r[1], jvmMs, (redis1 - redis0) * 1000, signals, latency);
  }

  static long signals(BenchStack s, List<String> users) {
    long n = 0;
    for (String u : users) {
      for (HistoryEvent e : s.stack.temporal().client().fetchHistory(WorkspaceWorkflow.idFor(u)).getEvents()) {
        if (e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            && List.of("heartbeat", "beat").contains(e.getWorkflowExecutionSignaledEventAttributes().getSignalName())) {
          n++;
        }
      }
    }
    return n;
  }

  static double redisCpuSeconds(BenchStack s) {
    String info = s.stack.redis().info("cpu");
    double total = 0;
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
        total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    return total;
  }

  static String wrk() {
    for (String p : List.of("/usr/bin/wrk", "/usr/local/bin/wrk")) {
      if (new java.io.File(p).canExecute()) {
        return p;
      }
    }
    return null;
  }

  /** wrk with a Lua script that sends the tokens round-robin; the script is private and deleted after. */
  private static long[] wrkRun(String wrk, BenchStack s, List<String> tokens, int conns, int seconds)
      throws Exception {
    Path script = Files.createTempFile("berth-hb", ".lua",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      StringBuilder lua = new StringBuilder("local tokens = {\n");
      tokens.forEach(t -> lua.append("  \"").append(t).append("\",\n"));
      lua.append("}\nlocal i = math.random(#tokens)\nrequest = function()\n  i = i + 1\n"
          + "  return wrk.format(\"POST\", \"/api/heartbeat\", "
          + "{[\"Authorization\"] = \"Bearer \" .. tokens[(i % #tokens) + 1]}, \"\")\nend\n");
      Files.writeString(script, lua.toString());
      Process p = new ProcessBuilder(wrk, "-t2", "-c" + conns, "-d" + seconds + "s", "--latency", "-s",
          script.toString(), s.stack.apiUrl()).redirectErrorStream(true).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("wrk did not finish");
      }
      long requests = longOf(out, "(\\d+) requests in");
      long errors = longOf(out, "Non-2xx or 3xx responses: (\\d+)");
      Matcher sock = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)")
          .matcher(out);
      if (sock.find()) {
        for (int g = 1; g <= 4; g++) {
          errors += Long.parseLong(sock.group(g));
        }
      }
      return new long[] {requests, errors, 0, micros(out, "50%"), micros(out, "99%")};
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static long longOf(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static long micros(String text, String pct) {
    Matcher m = Pattern.compile("\\s" + Pattern.quote(pct) + "\\s+([0-9.]+)(us|ms|s)").matcher(text);
    if (!m.find()) {
      return -1;
    }
    double v = Double.parseDouble(m.group(1));
    return (long) switch (m.group(2)) {
      case "us" -> v;
      case "ms" -> v * 1000;
      default -> v * 1_000_000;
    };
  }

  /** Raw HTTP/1.1 keep-alive clients on their own threads; returns their CPU time to subtract. */
  private static long[] inJvm(BenchStack s, List<String> tokens, int conns, int seconds) throws Exception {
    URI api = URI.create(s.stack.apiUrl());
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong ok = new AtomicLong();
    AtomicLong bad = new AtomicLong();
    AtomicLong cpu = new AtomicLong();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    List<Thread> ts = new ArrayList<>();
    for (int c = 0; c < conns; c++) {
      int offset = c;
      Thread t = new Thread(() -> {
        long cpu0 = threads.getCurrentThreadCpuTime();
        int i = offset;
        while (System.nanoTime() < end) {
          try (Socket sock = new Socket()) {
            sock.connect(new InetSocketAddress(api.getHost(), api.getPort()), 5000);
            sock.setSoTimeout(10_000);
            OutputStream out = sock.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(sock.getInputStream(),
                StandardCharsets.ISO_8859_1));
            boolean keep = true;
            while (keep && System.nanoTime() < end) {
              String token = tokens.get(i++ % tokens.size());
              out.write(("POST /api/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                  + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
              out.flush();
              String status = in.readLine();
              if (status == null) {
                break;
              }
              int length = 0;
              String line;
              while ((line = in.readLine()) != null && !line.isEmpty()) {
                String l = line.toLowerCase();
                if (l.startsWith("content-length:")) {
                  length = Integer.parseInt(l.substring(15).trim());
                } else if (l.startsWith("connection:") && l.contains("close")) {
                  keep = false;
                }
              }
              for (int k = 0; k < length; k++) {
                in.read();
              }
              if (status.startsWith("HTTP/1.1 204")) {
                ok.incrementAndGet();
              } else {
                bad.incrementAndGet();
              }
            }
          } catch (IOException | RuntimeException e) {
            bad.incrementAndGet();
          }
        }
        cpu.addAndGet(threads.getCurrentThreadCpuTime() - cpu0);
      }, "bench-hb-" + c);
      ts.add(t);
    }
    ts.forEach(Thread::start);
    for (Thread t : ts) {
      t.join(seconds * 1000L + 30_000);
    }
    return new long[] {ok.get() + bad.get(), bad.get(), cpu.get(), -1, -1};
  }
}
