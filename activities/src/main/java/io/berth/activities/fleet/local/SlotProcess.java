package io.berth.activities.fleet.local;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One slot's process, known by pid and start time: the start time tells a live process of ours
 * from an unrelated one that reused the pid after a restart.
 */
public record SlotProcess(long pid, long startMillis) {
  /** Start times read twice may differ by rounding; a reused pid starts much later. */
  private static final long START_TOLERANCE_MILLIS = 1_000;

  /** Starts argv in dir with exactly env as its environment, output appended to log, no stdin. */
  static SlotProcess start(List<String> argv, Path dir, Map<String, String> env, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.start();
    return of(p.toHandle());
  }

  static SlotProcess of(ProcessHandle h) {
    return new SlotProcess(h.pid(), h.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
  }

  /** "pid start", as written in pid files. */
  static Optional<SlotProcess> parse(String s) {
    try {
      String[] parts = s.trim().split("\\s+");
      return Optional.of(new SlotProcess(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  String format() {
    return pid + " " + startMillis;
  }

  /** The live process this record names, empty when it exited or its pid now belongs to another process. */
  Optional<ProcessHandle> handle() {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> {
      long start = h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
      return startMillis == 0 || start == 0 || Math.abs(start - startMillis) <= START_TOLERANCE_MILLIS;
    });
  }

  boolean alive() {
    return handle().isPresent();
  }

  /**
   * Ends the processes and everything they started: SIGTERM to the whole trees (collected before
   * any parent exits and orphans its children), then SIGKILL to what is left after half the bound.
   * Returns false when something survived the bound.
   */
  static boolean killAll(Collection<SlotProcess> processes, Duration bound) {
    Set<ProcessHandle> all = new LinkedHashSet<>();
    for (SlotProcess p : processes) {
      p.handle().ifPresent(h -> {
        all.add(h);
        h.descendants().forEach(all::add);
      });
    }
    if (all.isEmpty()) {
      return true;
    }
    // A box's bubblewrap processes exit by themselves once the program inside is gone. Signalled
    // too, the outer one could die before its namespace's init, which would then be left to this
    // machine's pid 1 to reap (a container's pid 1 may never do it) and this wait would run out.
    all.stream().filter(h -> !isBubblewrap(h)).forEach(ProcessHandle::destroy);
    if (awaitExit(all, bound.dividedBy(2))) {
      return true;
    }
    all.stream().filter(SlotProcess::running).forEach(ProcessHandle::destroyForcibly);
    return awaitExit(all, bound.dividedBy(2));
  }

  private static boolean isBubblewrap(ProcessHandle h) {
    return h.info().command().map(c -> c.equals(SlotBox.BWRAP.toString())).orElse(false);
  }

  /**
   * Alive and not a zombie. A boxed slot's tree is bubblewrap, its namespace's init, the program:
   * killed together, the init can end up a child of this machine's pid 1, which need not reap it
   * (seen in containers), and a zombie counts as alive for {@link ProcessHandle#isAlive}.
   */
  static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + h.pid() + "/stat"), StandardCharsets.US_ASCII);
      int close = stat.lastIndexOf(')');
      return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
    } catch (IOException | RuntimeException e) {
      return h.isAlive(); // no /proc (not Linux) or gone meanwhile
    }
  }

  /**
   * Live processes started for a slot under {@code fleetDir} (their environment names it in
   * {@code BERTH_SLOT_DIR}, which their children inherit) that neither are nor descend from one of
   * {@code known}: what a worker killed between starting a process and recording it left behind.
   * Linux only (/proc); elsewhere, and for processes not ours to read, nothing.
   */
  static List<SlotProcess> strays(Path fleetDir, Collection<SlotProcess> known) {
    String marker = "BERTH_SLOT_DIR=" + fleetDir + "/";
    Set<Long> knownPids = new java.util.HashSet<>();
    known.forEach(k -> k.handle().ifPresent(h -> knownPids.add(h.pid())));
    List<SlotProcess> strays = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.filter(p -> p.getFileName().toString().matches("[0-9]{1,10}")).forEach(p -> {
        long pid = Long.parseLong(p.getFileName().toString());
        if (startedFor(p, marker) && !knownPids.contains(pid)) {
          ProcessHandle.of(pid).filter(h -> !descendsFrom(h, knownPids)).ifPresent(h -> strays.add(of(h)));
        }
      });
    } catch (IOException | SecurityException e) {
      return List.of();
    }
    return strays;
  }

  private static boolean startedFor(Path proc, String marker) {
    try {
      String env = new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8);
      return ("\0" + env).contains("\0" + marker);
    } catch (IOException | SecurityException e) {
      return false; // exited meanwhile, or not ours to read
    }
  }

  private static boolean descendsFrom(ProcessHandle h, Set<Long> pids) {
    for (Optional<ProcessHandle> p = h.parent(); p.isPresent(); p = p.get().parent()) {
      if (pids.contains(p.get().pid())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Polls rather than waits on {@link ProcessHandle#onExit()}: for a process that is not this JVM's
   * child (every process inside a box) the JDK notices an exit only by polling with a back-off
   * (measured: 1.4 s), and recycles run under the fleet's lock.
   */
  private static boolean awaitExit(Collection<ProcessHandle> handles, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (handles.stream().anyMatch(SlotProcess::running)) {
      if (System.nanoTime() >= deadline) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

}
