package io.berth.activities.fleet.local;

import java.io.File;
import java.io.IOException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
    all.forEach(ProcessHandle::destroy);
    if (awaitExit(all, bound.dividedBy(2))) {
      return true;
    }
    all.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    return awaitExit(all, bound.dividedBy(2));
  }

  private static boolean awaitExit(Collection<ProcessHandle> handles, Duration bound) {
    List<CompletableFuture<ProcessHandle>> exits = new ArrayList<>();
    handles.forEach(h -> exits.add(h.onExit()));
    try {
      CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new)).get(bound.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return handles.stream().noneMatch(ProcessHandle::isAlive);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
