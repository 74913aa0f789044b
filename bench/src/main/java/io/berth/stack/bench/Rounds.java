package io.berth.stack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Timed allocations at a fixed concurrency, in rounds no larger than the pool of spares, so
 * every allocation takes a warm spare. Between rounds (untimed) the caller checks, releases
 * and waits until the spares are back.
 */
final class Rounds {
  /**
   * Untimed warm-up rounds run until the JIT compiler has settled: its compile time during a round
   * under {@link #SETTLED} of the round's wall time (at least {@link #MIN_WARM_UP_ROUNDS}, at most
   * {@link #MAX_WARM_UP_ROUNDS}). This JVM holds the test server, the SDK, Micronaut, gRPC and Netty:
   * the compiler took a quarter of the CPU samples of the timed rounds after a warm-up of 20
   * allocations, still after 100 and 200 (async-profiler, BENCHMARKS.md): a fixed short warm-up
   * times the JVM's warm-up, not Berth.
   */
  static final int MIN_WARM_UP_ROUNDS = 2;
  static final int MAX_WARM_UP_ROUNDS = 10;
  static final double SETTLED = 0.05;

  /** One untimed warm-up round (or a pair taken in turns), numbered from 0. */
  interface WarmUpRound {
    void run(int round) throws Exception;
  }

  /** How a warm-up ended: rounds run, and the compiler's share of the last round's wall time. */
  record WarmUp(int rounds, double lastJitShare) {
    String describe() {
      return String.format("%d untimed warm-up round(s) at 10 concurrent, run until the JIT compiler's time fell "
          + "under %.0f%% of a round (last round: %.1f%%%s)", rounds, SETTLED * 100, lastJitShare * 100,
          lastJitShare >= SETTLED ? ", stopped at the bound" : "");
    }
  }

  static WarmUp warmUp(WarmUpRound round) throws Exception {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    int rounds = 0;
    double share = 1;
    while (rounds < MAX_WARM_UP_ROUNDS && (rounds < MIN_WARM_UP_ROUNDS || share >= SETTLED)) {
      long compiled = jit.getTotalCompilationTime();
      long t0 = System.nanoTime();
      round.run(rounds);
      share = (jit.getTotalCompilationTime() - compiled) / Math.max(1.0, (System.nanoTime() - t0) / 1e6);
      rounds++;
    }
    return new WarmUp(rounds, share);
  }

  /** One timed allocation: returns the user it allocated for, or throws. */
  interface Allocation {
    void run(String user) throws Exception;
  }

  /** Untimed work between rounds, given the users the round allocated. */
  interface Between {
    void run(List<String> users) throws Exception;
  }

  /**
   * {@code jvmCpuMillis} and {@code machineCpuMillis}: CPU over the timed parts only (see
   * {@link CpuMeter}); divide by {@code latency().n()} for CPU per allocation.
   */
  record Result(Stats latency, int errors, String firstError, double wallSeconds, double jvmCpuMillis,
                double machineCpuMillis) {
    /** "J ms / M ms": JVM and machine CPU per successful allocation. */
    String cpuPerAllocation() {
      return Stats.ms(jvmCpuPerAllocation()) + " / " + Stats.ms(machineCpuPerAllocation());
    }

    double jvmCpuPerAllocation() {
      return jvmCpuMillis / Math.max(1, latency.n());
    }

    double machineCpuPerAllocation() {
      return machineCpuMillis / Math.max(1, latency.n());
    }

    /** Both runs' samples and CPU as one result (rounds of two paths taken in turns). */
    Result plus(Result o) {
      double[] both = new double[latency.n() + o.latency.n()];
      System.arraycopy(latency.sorted(), 0, both, 0, latency.n());
      System.arraycopy(o.latency.sorted(), 0, both, latency.n(), o.latency.n());
      return new Result(Stats.of(both), errors + o.errors, firstError != null ? firstError : o.firstError,
          wallSeconds + o.wallSeconds, jvmCpuMillis + o.jvmCpuMillis, machineCpuMillis + o.machineCpuMillis);
    }
  }

  private Rounds() {}

  static Result run(String prefix, int concurrency, int total, int pool, Allocation allocation, Between between)
      throws Exception {
    ConcurrentLinkedQueue<Double> samples = new ConcurrentLinkedQueue<>();
    AtomicInteger errors = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    double wall = 0;
    double jvmCpu = 0;
    double machineCpu = 0;
    int done = 0;
    for (int round = 0; done < total; round++) {
      int n = Math.min(pool, total - done);
      List<String> users = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        users.add(prefix + "-c" + concurrency + "-r" + round + "-" + i);
      }
      List<String> ok = new ArrayList<>(java.util.Collections.nCopies(n, (String) null));
      ExecutorService exec = Executors.newFixedThreadPool(concurrency);
      long w0 = System.nanoTime();
      CpuMeter cpu = CpuMeter.now();
      long from = System.currentTimeMillis();
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int k = i;
          fs.add(exec.submit(() -> {
            long t0 = System.nanoTime();
            try {
              allocation.run(users.get(k));
              samples.add((System.nanoTime() - t0) / 1e6);
              ok.set(k, users.get(k));
            } catch (Exception | AssertionError e) {
              errors.incrementAndGet();
              firstError.compareAndSet(null, users.get(k) + ": " + e);
            }
          }));
        }
        for (Future<?> f : fs) {
          f.get(10, TimeUnit.MINUTES);
        }
      } finally {
        exec.shutdownNow();
      }
      wall += (System.nanoTime() - w0) / 1e9;
      double[] spent = cpu.since();
      jvmCpu += spent[0];
      machineCpu += spent[1];
      recordWindow(prefix, concurrency, from);
      done += n;
      between.run(ok.stream().filter(u -> u != null).toList());
    }
    return new Result(Stats.of(new ArrayList<>(samples)), errors.get(), firstError.get(), wall, jvmCpu, machineCpu);
  }

  /**
   * With BERTH_BENCH_WINDOWS=FILE, appends "prefix concurrency fromMillis toMillis" per timed round:
   * the windows to cut a profile of the whole run (JFR, say) down to the timed parts.
   */
  private static void recordWindow(String prefix, int concurrency, long fromMillis) {
    String file = System.getenv("BERTH_BENCH_WINDOWS");
    if (file == null || file.isBlank()) {
      return;
    }
    String line = prefix + " " + concurrency + " " + fromMillis + " " + System.currentTimeMillis() + "\n";
    try {
      Files.writeString(Path.of(file), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.out.println("bench: cannot write " + file + ": " + e.getMessage());
    }
  }

  /** Runs {@code task} for every item on {@code threads} threads and waits (bounded) for all. */
  static <T> void parallel(List<T> items, int threads, ThrowingConsumer<T> task) throws Exception {
    ExecutorService exec = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, items.size())));
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (T item : items) {
        fs.add(exec.submit(() -> {
          task.accept(item);
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      exec.shutdownNow();
    }
  }

  interface ThrowingConsumer<T> {
    void accept(T t) throws Exception;
  }
}
