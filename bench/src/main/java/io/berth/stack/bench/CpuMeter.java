package io.berth.stack.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU spent over a timed window: this JVM's (the whole embedded stack but Nginx, Redis and the
 * slot processes) and the machine's (every process, from /proc/stat). On a machine whose cores are
 * all busy, latency at a fixed concurrency follows CPU per allocation, so this is what the saga's
 * overhead costs once the cores are the bound.
 */
record CpuMeter(long jvmNanos, long machineTicks) {
  /** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
  private static final double MILLIS_PER_TICK = 10.0;

  static CpuMeter now() {
    return new CpuMeter(jvmCpuNanos(), machineBusyTicks());
  }

  /** CPU milliseconds since {@code this}: {jvm, machine} (machine is NaN where /proc/stat is missing). */
  double[] since() {
    CpuMeter end = now();
    double machine = machineTicks < 0 || end.machineTicks < 0 ? Double.NaN
        : (end.machineTicks - machineTicks) * MILLIS_PER_TICK;
    return new double[] {(end.jvmNanos - jvmNanos) / 1e6, machine};
  }

  private static long jvmCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return 0;
  }

  /** user + nice + system + irq + softirq + steal over all cores. */
  private static long machineBusyTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
