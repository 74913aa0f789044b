package io.berth.activities.fleet.local;

import io.berth.activities.store.PortAllocator;
import io.berth.testkit.Await;
import io.berth.workflows.RedisKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import redis.clients.jedis.UnifiedJedis;

/**
 * The local fleet's parts wired as {@link LocalFleet} wires them, on a unique key prefix and a
 * port range of their own, without the facade and without a reconciler thread; {@link #close()}
 * kills every process they know of and deletes their keys.
 */
final class FleetParts implements AutoCloseable {
  static final Duration GONE = Duration.ofSeconds(20);

  final UnifiedJedis redis;
  final RedisKeys keys = new RedisKeys("fleetparts-" + UUID.randomUUID() + ":");
  final LocalFleetConfig config;
  final PortAllocator allocator;
  final HostRegistry registry;
  final FleetLayout layout;
  final SlotPorts ports;
  final SlotProcesses processes;
  final FleetRecovery recovery;
  final HostGroup group;
  private final List<Long> pids = new ArrayList<>();

  FleetParts(UnifiedJedis redis, LocalFleetConfig config) {
    this.redis = redis;
    this.config = config;
    int first = 20_000 + ThreadLocalRandom.current().nextInt(100) * 100;
    allocator = new PortAllocator(redis, keys, first, first + 99);
    registry = new HostRegistry(redis, keys, config);
    layout = new FleetLayout(config.stateDir());
    ports = new SlotPorts(allocator);
    processes = new SlotProcesses(config, layout, registry, ports);
    recovery = new FleetRecovery(registry, layout, ports, processes);
    group = new HostGroup(config, new ReentrantLock(), registry, layout, ports, processes, recovery);
  }

  /** A template of one {@code sleep}: starts at once, serves nothing. */
  static Template sleeper() {
    return new Template() {
      @Override
      public String name() {
        return "sleeper";
      }

      @Override
      public List<String> argv(Launch launch) {
        return List.of("sleep", "300");
      }

      @Override
      public String probePath() {
        return "/";
      }
    };
  }

  static LocalFleetConfig config(Path stateDir, Template template, int maxHosts) {
    return LocalFleetConfig.defaults(stateDir).withTemplate(template).withHosts(0, maxHosts).withSlotsPerHost(1);
  }

  /** A process of the test's, killed on {@link #close()}. */
  Process spawn(Map<String, String> env, String... argv) throws java.io.IOException {
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().putAll(env);
    Process p = pb.start();
    pids.add(p.pid());
    return p;
  }

  /** Remembers the pid so that {@link #close()} makes sure it is gone. */
  long watch(long pid) {
    pids.add(pid);
    return pid;
  }

  /** Running and not a zombie: an orphan killed with its parent may wait for a pid 1 that never reaps it. */
  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(SlotProcess::running).orElse(false);
  }

  static void awaitDead(long pid) {
    Await.until("pid " + pid + " to exit", GONE, () -> !alive(pid));
  }

  @Override
  public void close() {
    List<SlotProcess> all = new ArrayList<>(processes.tracked());
    all.addAll(layout.pidFiles().values());
    pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(h -> all.add(SlotProcess.of(h))));
    SlotProcesses.killAll(all);
    pids.forEach(FleetParts::awaitDead);
    List<String> left = List.copyOf(redis.keys(keys.prefix() + "*"));
    if (!left.isEmpty()) {
      redis.del(left.toArray(String[]::new));
    }
  }
}
