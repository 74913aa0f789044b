package io.berth.activities.fleet.local;

import io.berth.activities.fleet.Fleet;
import io.berth.activities.store.PortAllocator;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * Hosts on this machine with Auto Scaling semantics. A host is a directory
 * {@code <stateDir>/fleet/<hostId>/} with one template process per {@code slot-<i>/}, each on a
 * loopback port from the {@link PortAllocator}. Host state lives in Redis ({@code inst:<id>},
 * {@code insts}, the desired capacity), so a restarted worker adopts the processes that still run
 * instead of launching twice. Each host directory also describes its host (a {@code host} file,
 * pid files with ports, owner files), so that when Redis loses its data the hosts that still run
 * are recorded again rather than killed or launched twice. A reconciler thread launches hosts while fewer than desired run and
 * terminates unprotected ones, newest first, while more do, as an ASG would.
 *
 * <p>A template that keeps per-user state ({@link Template#keepsUserState()}) is restarted on the
 * owner's directory {@code <stateDir>/users/<label>/} when its slot is tagged, and ownerless when
 * it is untagged or recycled; those directories outlive slots, hosts and the fleet. A recycled
 * slot's directory is emptied (but for its log): nothing of one user reaches the next. Templates
 * with an {@link Template#activitySignal()} get their heartbeats from an {@link ActivityWatcher}.
 *
 * <p>One active instance per Redis prefix: every change is serialized by this JVM's lock.
 */
public final class LocalFleet implements Fleet, AutoCloseable {
  public static final String ADDRESS = "127.0.0.1";
  static final String PENDING = "PENDING";
  static final String RUNNING = "RUNNING";
  static final String TERMINATING = "TERMINATING";
  private static final Logger log = LoggerFactory.getLogger(LocalFleet.class);
  private static final Pattern HOST_ID = Pattern.compile("h-[0-9]{1,18}");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{16,256}");
  private static final Duration KILL_BOUND = Duration.ofSeconds(4);
  private static final Duration PORT_FREE_BOUND = Duration.ofSeconds(5);
  /** A restart for a new owner must serve well within the tag activity's 30 s start-to-close timeout. */
  private static final Duration RESTART_SERVE_BOUND = Duration.ofSeconds(20);
  private static final String LOG_FILE = "workspace.log";
  private static final String SECRET_MODE = "rw-------";
  private static final String DIR_MODE = "rwx------";

  /** KEYS[1] hash; ARGV field/value pairs. Never recreates the hash of a host that is gone. */
  private static final String HSET_IF_EXISTS = """
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      redis.call('HSET', KEYS[1], unpack(ARGV))
      return 1
      """;

  /** KEYS: inst, desired. ARGV: decrement (1/0), min. Decrements only on the first transition, so retries don't. */
  private static final String BEGIN_TERMINATE = """
      local s = redis.call('HGET', KEYS[1], 'state')
      if not s then return 0 end
      if s == 'TERMINATING' then return 1 end
      redis.call('HSET', KEYS[1], 'state', 'TERMINATING')
      if ARGV[1] == '1' then
        local d = tonumber(redis.call('GET', KEYS[2]) or ARGV[2])
        if d > tonumber(ARGV[2]) then redis.call('SET', KEYS[2], d - 1) end
      end
      return 1
      """;

  /** KEYS[1] counter; ARGV[1] floor. Raises the counter to the floor, never lowers it. */
  private static final String RAISE_TO = """
      local c = tonumber(redis.call('GET', KEYS[1]) or '0')
      if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
      return 1
      """;

  /** In each host directory: "launchedAtMillis slots template". */
  private static final String HOST_FILE = "host";

  private static final String FORGET_HOST = """
      redis.call('DEL', KEYS[1])
      redis.call('SREM', KEYS[2], ARGV[1])
      return 1
      """;

  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final PortAllocator ports;
  private final LocalFleetConfig config;
  private final Template template;
  private final ReentrantLock lock = new ReentrantLock();
  /** Slot id → the process this instance started or adopted; what shutdown kills even when Redis is gone. */
  private final Map<String, SlotProcess> processes = new ConcurrentHashMap<>();
  private final AtomicBoolean wakeQueued = new AtomicBoolean();
  private volatile ScheduledExecutorService reconciler;
  private volatile ActivityWatcher activity;
  private volatile boolean closed;

  public LocalFleet(UnifiedJedis redis, RedisKeys keys, PortAllocator ports, LocalFleetConfig config) {
    this.redis = redis;
    this.keys = keys;
    this.ports = ports;
    this.config = config;
    this.template = config.template();
  }

  /** Adopts what a previous worker left running, then starts the reconciler. */
  public LocalFleet start() {
    lock.lock();
    try {
      adopt();
      keepDesired();
    } finally {
      lock.unlock();
    }
    ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "local-fleet-reconciler");
      t.setDaemon(true);
      return t;
    });
    reconciler = ex;
    long every = config.reconcileInterval().toMillis();
    ex.scheduleWithFixedDelay(this::reconcileQuietly, 0, every, TimeUnit.MILLISECONDS);
    template.activitySignal().ifPresent(signal -> activity =
        new ActivityWatcher(signal, config.apiUrl(), this::watchedSlots).start(config.activityInterval()));
    return this;
  }

  /**
   * Before a fresh start with an embedded Temporal, which kept none of the previous run's
   * workflows: kills every workspace process a previous run under {@code stateDir} left (found by
   * the slot directory in its environment) and deletes its host directories, so that nothing of
   * it is adopted as a host. Users' own directories stay. Returns how many processes were killed.
   */
  public static int clearPreviousRun(Path stateDir) {
    Path fleetDir = stateDir.resolve("fleet");
    List<SlotProcess> left = SlotProcess.strays(fleetDir, List.of());
    if (!left.isEmpty() && !SlotProcess.killAll(left, KILL_BOUND)) {
      log.warn("some workspace processes of the previous run survived");
    }
    for (String hostId : listDir(fleetDir)) {
      if (HOST_ID.matcher(hostId).matches()) {
        deleteTree(fleetDir.resolve(hostId));
      }
    }
    return left.size();
  }

  public LocalFleetConfig config() {
    return config;
  }

  // ---- Fleet ---------------------------------------------------------------------------------

  @Override
  public FleetSnapshot describe() {
    List<Host> hosts = loadHosts().stream().map(this::toHost).toList();
    return new FleetSnapshot(desired(), config.minHosts(), config.maxHosts(), hosts);
  }

  @Override
  public void setDesiredCapacity(int desired) {
    redis.set(desiredKey(), String.valueOf(clamp(desired)));
    wake();
  }

  @Override
  public void tagOwner(Slot slot, String owner) {
    requireSlot(slot);
    if (owner != null && !Labels.validKey(owner)) {
      throw invalid("invalid owner");
    }
    int restartedOn;
    lock.lock();
    try {
      HostState h = loadHost(slot.hostId());
      if (owner == null) {
        if (h != null) {
          redis.hdel(keys.instance(slot.hostId()), "owner." + slot.index());
          SlotState s = slotOf(h, slot.index());
          if (s != null && s.userLabel() != null && RUNNING.equals(h.state())) {
            // The owner's process must not serve anyone else, even for the moment until the recycle.
            restart(slot, s, null);
          }
        }
        deleteFile(slotDir(slot).resolve("owner"));
        return;
      }
      requireLive(h, slot.hostId());
      SlotState s = slotOf(h, slot.index());
      if (s != null && s.owner() != null && !s.owner().equals(owner)) {
        // Claimed twice (Redis lost the claim mark in between): the first owner keeps it, this saga compensates.
        throw ApplicationFailure.newNonRetryableFailure("slot " + slot.slotId() + " already has an owner", "SlotTaken");
      }
      hsetIfExists(slot.hostId(), Map.of("owner." + slot.index(), owner));
      String label = Labels.labelFor(owner);
      restartedOn = s != null && template.keepsUserState() && needsRestartFor(s, label) ? restart(slot, s, label) : 0;
      writeSecret(slotDir(slot).resolve("owner"), owner);
    } finally {
      lock.unlock();
    }
    if (restartedOn > 0) {
      awaitServing(slot, restartedOn);
    }
  }

  private static boolean needsRestartFor(SlotState s, String label) {
    return !label.equals(s.userLabel()) || s.process() == null || !s.process().alive();
  }

  /**
   * A fresh process on the slot for {@code userLabel} (null: ownerless); returns its port. Under
   * the lock. An owner's process keeps the slot's port: the workflow routes to the port it claimed.
   */
  private int restart(Slot slot, SlotState s, String userLabel) {
    killSlot(slot.slotId(), s);
    wipeSlotDir(slot);
    int port = userLabel != null ? samePort(slot.slotId(), s.port()) : reusablePort(slot.slotId(), s.port());
    startSlot(slot.hostId(), slot.index(), port, userLabel);
    log.info("{} restarted {}", slot.slotId(), userLabel == null ? "ownerless" : "for its owner");
    return port;
  }

  /** Outside the lock: a starting code-server takes seconds, and the fleet must not stand still meanwhile. */
  private void awaitServing(Slot slot, int port) {
    long deadline = System.nanoTime() + RESTART_SERVE_BOUND.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        LoopbackHttp.Answer a = LoopbackHttp.get(port, template.probePath(), Duration.ofSeconds(2));
        if (a.ok()) {
          return;
        }
        last = "answered " + a.status();
      } catch (IOException e) {
        last = e.getClass().getSimpleName();
      }
      sleep(Duration.ofMillis(200));
    }
    throw ApplicationFailure.newFailure("slot " + slot.slotId() + " not serving after its restart for the owner: "
        + last, "NotReady");
  }

  @Override
  public String ownerOf(Slot slot) {
    requireSlot(slot);
    return redis.hget(keys.instance(slot.hostId()), "owner." + slot.index());
  }

  @Override
  public void setProtected(String hostId, boolean protect) {
    requireHostId(hostId);
    if (!hsetIfExists(hostId, Map.of("protected", String.valueOf(protect))) && protect) {
      throw hostGone(hostId);
    }
  }

  @Override
  public void recycleSlot(Slot slot) {
    requireSlot(slot);
    lock.lock();
    try {
      HostState h = loadHost(slot.hostId());
      if (h == null || !RUNNING.equals(h.state()) || slot.index() >= h.slots().size()) {
        log.info("recycle {}: host not running, nothing to do", slot.slotId());
        return;
      }
      SlotState s = h.slots().get(slot.index());
      killSlot(slot.slotId(), s);
      redis.hdel(keys.instance(slot.hostId()), "owner." + slot.index());
      wipeSlotDir(slot);
      startSlot(slot.hostId(), slot.index(), reusablePort(slot.slotId(), s.port()), null);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
    requireHostId(hostId);
    lock.lock();
    try {
      terminateLocked(hostId, decrement);
    } finally {
      lock.unlock();
    }
    wake();
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    requireSlot(slot);
    if (!Labels.validKey(user)) {
      throw invalid("invalid user id");
    }
    if (heartbeatToken == null || !TOKEN.matcher(heartbeatToken).matches()) {
      throw invalid("malformed heartbeat token");
    }
    lock.lock();
    try {
      requireLive(loadHost(slot.hostId()), slot.hostId());
      writeSecret(slotDir(slot).resolve("owner"), user);
      writeSecret(slotDir(slot).resolve("token"), heartbeatToken);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void revokeCredentials(Slot slot) {
    requireSlot(slot);
    deleteFile(slotDir(slot).resolve("token"));
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Shutdown of the whole local fleet: {@link #shutdownAll()}. */
  @Override
  public void close() {
    shutdownAll();
  }

  /**
   * Kills every slot process (with the processes they started) this fleet knows of, from memory,
   * Redis and the pid files, then forgets the hosts. Works when Redis is already gone.
   */
  public void shutdownAll() {
    stopReconciler();
    lock.lock();
    try {
      Map<String, SlotProcess> all = new LinkedHashMap<>(processes);
      List<HostState> hosts = List.of();
      try {
        hosts = loadHosts();
        hosts.forEach(h -> h.slots().forEach(s -> {
          if (s.process() != null) {
            all.putIfAbsent(Slot.idOf(h.id(), s.index()), s.process());
          }
        }));
      } catch (RuntimeException e) {
        log.warn("redis unavailable at shutdown, killing from pid files: {}", e.toString());
      }
      pidFiles().forEach((slotId, p) -> all.putIfAbsent(slotId, p));
      if (!SlotProcess.killAll(all.values(), KILL_BOUND)) {
        log.warn("some slot processes survived shutdown");
      }
      processes.clear();
      try {
        for (HostState h : hosts) {
          h.slots().forEach(s -> {
            forgetFirewallRule(s.port());
            ports.release(s.port(), Slot.idOf(h.id(), s.index()));
          });
          forgetHost(h.id());
        }
      } catch (RuntimeException e) {
        log.warn("could not clear host state in redis: {}", e.toString());
      }
      deleteTree(fleetDir());
    } finally {
      lock.unlock();
    }
  }

  /** Stops the reconciler and leaves every process running for the next instance to adopt. */
  public void detach() {
    stopReconciler();
    processes.clear();
  }

  private void stopReconciler() {
    closed = true;
    ActivityWatcher watcher = activity;
    if (watcher != null) {
      watcher.close();
    }
    ScheduledExecutorService ex = reconciler;
    if (ex != null) {
      ex.shutdownNow();
      try {
        if (!ex.awaitTermination(KILL_BOUND.toSeconds() * 2, TimeUnit.SECONDS)) {
          log.warn("reconciler did not stop in time");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- reconciler ----------------------------------------------------------------------------

  private void wake() {
    ScheduledExecutorService ex = reconciler;
    if (ex == null || closed || !wakeQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      ex.execute(() -> {
        wakeQueued.set(false);
        reconcileQuietly();
      });
    } catch (RejectedExecutionException e) {
      wakeQueued.set(false);
    }
  }

  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      log.warn("local fleet reconcile failed, retrying next pass: {}", e.toString());
    }
  }

  /**
   * One ASG pass: launch while fewer than desired are up, terminate unprotected newest-first while
   * more are. New hosts are recorded (PENDING) under the lock and their processes spawned outside
   * it, so that tagging, recycling and untagging other hosts' slots do not wait for the spawns.
   * Passes run on the one reconciler thread, so the next pass sees the PENDING records.
   */
  void reconcile() {
    List<String> launching = new ArrayList<>();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      if (recoverUnrecorded() > 0) {
        keepDesired();
      }
      int desired = desired();
      List<HostState> hosts = loadHosts();
      hosts.stream().filter(h -> TERMINATING.equals(h.state())).forEach(this::finishTermination);
      List<HostState> up = hosts.stream()
          .filter(h -> PENDING.equals(h.state()) || RUNNING.equals(h.state())).toList();
      for (int n = up.size(); n < desired && !closed; n++) {
        String id = recordNewHost();
        if (id != null) {
          launching.add(id);
        }
      }
      int excess = up.size() - desired;
      if (excess > 0) {
        List<HostState> victims = up.stream()
            .filter(h -> RUNNING.equals(h.state()) && !h.protect())
            .sorted(Comparator.comparingLong(HostState::launchedAt).thenComparingLong(HostState::seq).reversed())
            .limit(excess).toList();
        for (HostState h : victims) {
          log.info("scale-in: terminating {} (desired {})", h.id(), desired);
          terminateLocked(h.id(), false);
        }
      }
    } finally {
      lock.unlock();
    }
    launching.forEach(this::launchHost);
  }

  /** Under the lock: the host's record (PENDING) and directory, before any process runs; null when that failed. */
  private String recordNewHost() {
    String id = newHostId();
    long launchedAt = System.currentTimeMillis();
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("state", PENDING);
    fields.put("address", ADDRESS);
    fields.put("protected", "false");
    fields.put("launchedAt", String.valueOf(launchedAt));
    fields.put("slots", String.valueOf(config.slotsPerHost()));
    fields.put("template", template.name());
    redis.hset(keys.instance(id), fields);
    redis.sadd(keys.instances(), id);
    try {
      writeHostFile(id, launchedAt);
      return id;
    } catch (RuntimeException e) {
      log.warn("launch of {} failed, removing it: {}", id, e.toString());
      terminateLocked(id, false);
      return null;
    }
  }

  /**
   * Outside the lock: starts the host's slot processes, then (under the lock) marks it RUNNING,
   * unless it was terminated meanwhile: then what this started goes too.
   */
  private void launchHost(String id) {
    RuntimeException failed = null;
    try {
      for (int i = 0; i < config.slotsPerHost() && !closed; i++) {
        startSlot(id, i, ports.allocate(Slot.idOf(id, i)), null);
      }
    } catch (RuntimeException e) {
      failed = e;
    }
    lock.lock();
    try {
      HostState h = loadHost(id);
      if (failed != null || closed || h == null || !PENDING.equals(h.state())) {
        log.warn("launch of {} did not complete ({}), removing it", id,
            failed != null ? failed.toString() : h == null ? "its record is gone" : "now " + h.state());
        List<SlotProcess> started = new ArrayList<>();
        for (int i = 0; i < config.slotsPerHost(); i++) {
          SlotProcess p = processes.remove(Slot.idOf(id, i));
          if (p != null) {
            started.add(p);
          }
        }
        SlotProcess.killAll(started, KILL_BOUND);
        if (h != null) {
          terminateLocked(id, false);
        } else {
          deleteTree(hostDir(id));
        }
        return;
      }
      // Readiness is the capacity workflow's probe; the fleet only says the processes started.
      hsetIfExists(id, Map.of("state", RUNNING));
      log.info("launched {} with {} slot(s) of {}", id, config.slotsPerHost(), template.name());
    } catch (RuntimeException e) {
      log.warn("could not finish the launch of {}: {}", id, e.toString());
    } finally {
      lock.unlock();
    }
  }

  /** The next id of the sequence whose directory does not exist (the sequence may have restarted with Redis). */
  private String newHostId() {
    for (int i = 0; i < 10_000; i++) {
      String id = "h-" + redis.incr(keys.hostSequence());
      if (!Files.exists(hostDir(id))) {
        return id;
      }
    }
    throw new IllegalStateException("no free host id: every id tried has a directory");
  }

  private void writeHostFile(String hostId, long launchedAt) {
    try {
      Files.createDirectories(hostDir(hostId),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(DIR_MODE)));
      Files.writeString(hostDir(hostId).resolve(HOST_FILE),
          launchedAt + " " + config.slotsPerHost() + " " + template.name(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not describe " + hostId + " on disk", e);
    }
  }

  private void terminateLocked(String hostId, boolean decrement) {
    Object began = redis.eval(BEGIN_TERMINATE, List.of(keys.instance(hostId), desiredKey()),
        List.of(decrement ? "1" : "0", String.valueOf(config.minHosts())));
    if (!Long.valueOf(1).equals(began)) {
      return;
    }
    HostState h = loadHost(hostId);
    if (h != null) {
      destroy(h);
    }
    log.info("terminated {}{}", hostId, decrement ? " (desired decremented)" : "");
  }

  /** Kills the host's processes, frees its ports and directory, forgets it. */
  private void destroy(HostState h) {
    List<SlotProcess> procs = new ArrayList<>();
    for (SlotState s : h.slots()) {
      String slotId = Slot.idOf(h.id(), s.index());
      SlotProcess mine = processes.remove(slotId);
      if (mine != null) {
        procs.add(mine);
      }
      if (s.process() != null) {
        procs.add(s.process());
      }
    }
    pidFilesOf(h.id()).values().forEach(procs::add);
    if (!SlotProcess.killAll(procs, KILL_BOUND)) {
      throw new IllegalStateException("processes of " + h.id() + " survived termination");
    }
    for (SlotState s : h.slots()) {
      if (s.port() > 0) {
        forgetFirewallRule(s.port());
        ports.release(s.port(), Slot.idOf(h.id(), s.index()));
      }
    }
    deleteTree(hostDir(h.id()));
    forgetHost(h.id());
  }

  /** A termination that failed half-way (a process that would not die) is retried on every pass. */
  private void finishTermination(HostState h) {
    try {
      destroy(h);
    } catch (RuntimeException e) {
      log.warn("termination of {} still incomplete: {}", h.id(), e.toString());
    }
  }

  private void forgetHost(String hostId) {
    redis.eval(FORGET_HOST, List.of(keys.instance(hostId), keys.instances()), List.of(hostId));
  }

  // ---- adoption ------------------------------------------------------------------------------

  /**
   * After a restart: RUNNING hosts with a live process are adopted as they are (a slot whose
   * process died shows as not alive and the capacity workflow recycles it); hosts caught
   * mid-launch or mid-termination, or with nothing alive, are finished off without decrement, so
   * the reconciler replaces them. Directories with no host record are orphans: their processes go.
   */
  private void adopt() {
    recoverUnrecorded();
    Set<String> liveOwners = new HashSet<>();
    for (HostState h : loadHosts()) {
      boolean anyAlive = h.slots().stream().anyMatch(s -> s.process() != null && s.process().alive());
      if (RUNNING.equals(h.state()) && anyAlive) {
        h.slots().forEach(s -> {
          String slotId = Slot.idOf(h.id(), s.index());
          liveOwners.add(slotId);
          if (s.process() != null && s.process().alive()) {
            processes.put(slotId, s.process());
          }
        });
        log.info("adopted {}", h.id());
      } else {
        log.info("{} was {} with {} live process(es) at restart: terminating it", h.id(), h.state(),
            anyAlive ? "some" : "no");
        redis.eval(BEGIN_TERMINATE, List.of(keys.instance(h.id()), desiredKey()),
            List.of("0", String.valueOf(config.minHosts())));
        destroy(h);
      }
    }
    int freed = ports.reclaimStale(liveOwners);
    if (freed > 0) {
      log.info("reclaimed {} stale port(s)", freed);
    }
    killStrays();
  }

  /**
   * A previous worker killed between starting a slot's process and recording it (pid file, host
   * record) left a process nobody knows: found by the slot directory in its environment, killed.
   */
  private void killStrays() {
    List<SlotProcess> strays = SlotProcess.strays(fleetDir(), processes.values());
    if (!strays.isEmpty()) {
      log.warn("killing {} workspace process(es) no host records (a worker died while starting them): {}",
          strays.size(), strays.stream().map(SlotProcess::pid).toList());
      SlotProcess.killAll(strays, KILL_BOUND);
    }
  }

  /**
   * Host directories that Redis has no record of. When Redis lost its data, a host whose directory
   * describes it and whose processes still run is recorded again: RUNNING, its ports, whose
   * directory each process runs on, its owners (from the owner files) and scale-in protection when
   * a slot is owned; the host sequence moves
   * past it. Any other directory is an orphan: its processes are killed and it goes. Returns how
   * many hosts were recorded again.
   */
  private int recoverUnrecorded() {
    Set<String> known = new HashSet<>(redis.smembers(keys.instances()));
    int recovered = 0;
    long highest = 0;
    for (String hostId : listDir(fleetDir())) {
      if (known.contains(hostId) || !HOST_ID.matcher(hostId).matches()) {
        continue;
      }
      Map<String, String> record = recordFromDisk(hostId);
      if (record == null) {
        log.info("{} has a directory but no record: killing what it left", hostId);
        SlotProcess.killAll(pidFilesOf(hostId).values(), KILL_BOUND);
        deleteTree(hostDir(hostId));
        continue;
      }
      redis.hset(keys.instance(hostId), record);
      redis.sadd(keys.instances(), hostId);
      for (int i = 0; i < parseInt(record.get("slots")); i++) {
        int port = parseInt(record.get("port." + i));
        if (port > 0 && !ports.claim(port, Slot.idOf(hostId, i))) {
          log.warn("port {} of recovered {} is recorded for another owner", port, Slot.idOf(hostId, i));
        }
      }
      recovered++;
      highest = Math.max(highest, parseLong(hostId.substring(2)));
      log.warn("{} was running without a record (Redis lost its data?): recorded it again from its directory",
          hostId);
    }
    if (recovered > 0) {
      redis.eval(RAISE_TO, List.of(keys.hostSequence()), List.of(String.valueOf(highest)));
    }
    return recovered;
  }

  /** The record a host directory describes, or null when it is incomplete or nothing of it runs. */
  private Map<String, String> recordFromDisk(String hostId) {
    String[] host = readWords(hostDir(hostId).resolve(HOST_FILE));
    if (host.length != 3 || !host[0].matches("[0-9]{1,18}") || !host[1].matches("[0-9]{1,2}")
        || !Labels.validLabel(host[2])) {
      return null;
    }
    int slots = Integer.parseInt(host[1]);
    Map<String, String> record = new LinkedHashMap<>();
    record.put("state", RUNNING);
    record.put("address", ADDRESS);
    record.put("launchedAt", host[0]);
    record.put("slots", host[1]);
    record.put("template", host[2]);
    boolean anyAlive = false;
    boolean owned = false;
    for (int i = 0; i < slots; i++) {
      String[] pid = readWords(pidFile(hostId, i));
      if (pid.length < 3 || pid.length > 4 || !pid[0].matches("[0-9]{1,10}") || !pid[1].matches("[0-9]{1,18}")
          || !pid[2].matches("[0-9]{1,5}") || pid.length == 4 && !Labels.validLabel(pid[3])) {
        return null;
      }
      if (pid.length == 4) {
        record.put("user." + i, pid[3]);
      }
      anyAlive |= new SlotProcess(Long.parseLong(pid[0]), Long.parseLong(pid[1])).alive();
      record.put("pid." + i, pid[0]);
      record.put("start." + i, pid[1]);
      record.put("port." + i, pid[2]);
      String[] owner = readWords(slotDir(hostId, i).resolve("owner"));
      if (owner.length == 1 && Labels.validKey(owner[0])) {
        record.put("owner." + i, owner[0]);
        owned = true;
      }
    }
    record.put("protected", String.valueOf(owned));
    return anyAlive ? record : null;
  }

  /** A lost desired capacity keeps what runs (never below the minimum) rather than scaling it in. */
  private void keepDesired() {
    long up = loadHosts().stream().filter(h -> PENDING.equals(h.state()) || RUNNING.equals(h.state())).count();
    redis.setnx(desiredKey(), String.valueOf(clamp((int) Math.max(up, config.minHosts()))));
  }

  private static String[] readWords(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).trim();
      return text.isEmpty() || text.length() > 512 ? new String[0] : text.split("\\s+");
    } catch (IOException e) {
      return new String[0];
    }
  }

  // ---- slots ---------------------------------------------------------------------------------

  /** {@code userLabel}: the owner whose directory the process runs on (templates that keep user state), or null. */
  private void startSlot(String hostId, int index, int port, String userLabel) {
    Path dir = slotDir(hostId, index);
    String slotId = Slot.idOf(hostId, index);
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(DIR_MODE)));
      Path userDir = userLabel == null ? null : userDir(userLabel);
      if (userDir != null) {
        Files.createDirectories(userDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(DIR_MODE)));
      }
      // Fresh for every process; private like the slot directory (createTempDirectory makes it 700).
      Path scratch = Files.createTempDirectory(dir, "run-");
      Map<String, String> env = new LinkedHashMap<>();
      env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
      env.put("LANG", "C.UTF-8");
      env.put("HOME", (userDir != null ? userDir : dir).toString());
      env.put("BERTH_SLOT_DIR", dir.toString());
      env.put("BERTH_PORT", String.valueOf(port));
      env.put("BERTH_API_URL", config.apiUrl());
      env.put("BERTH_ACTIVITY_INTERVAL_MS", String.valueOf(config.activityInterval().toMillis()));
      Template.Launch launch = new Template.Launch(port, dir, userDir, scratch, Map.copyOf(env));
      template.prepare(launch);
      List<String> argv = boxed() ? boxedArgv(launch, hostId, index) : template.argv(launch);
      Path logFile = dir.resolve(LOG_FILE);
      if (Files.exists(logFile, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(logFile, LinkOption.NOFOLLOW_LINKS)) {
        // Only Berth writes the log (as root, when slots are boxed): never through a link a slot left there.
        deleteTree(logFile);
      }
      SlotProcess p = SlotProcess.start(argv, dir, env, logFile);
      processes.put(slotId, p);
      // "pid start port [userLabel]": enough to record the slot again if Redis loses it.
      Files.writeString(pidFile(hostId, index), p.format() + " " + port + (userLabel == null ? "" : " " + userLabel),
          StandardCharsets.UTF_8);
      hsetIfExists(hostId, Map.of("pid." + index, String.valueOf(p.pid()), "start." + index,
          String.valueOf(p.startMillis()), "port." + index, String.valueOf(port)));
      if (userLabel != null) {
        hsetIfExists(hostId, Map.of("user." + index, userLabel));
      } else {
        redis.hdel(keys.instance(hostId), "user." + index);
      }
    } catch (IOException e) {
      ports.release(port, slotId);
      throw new UncheckedIOException("could not start " + template.name() + " in " + slotId, e);
    }
  }

  /** The slot's firewall rule goes with its process (the next slot on the port makes its own). */
  private void forgetFirewallRule(int port) {
    SlotBox box = config.box();
    if (boxed() && box.firewall() != null && port > 0 && port <= 65535) {
      box.firewall().remove(SlotBox.uidFor(port));
    }
  }

  /** Whether this fleet's slots run in a {@link SlotBox}. */
  public boolean boxed() {
    return config.box() != null && template.runsUserCode();
  }

  /**
   * The slot's directories made its uid's, a passwd file naming that uid beside the slot's pid
   * file, and the template's command wrapped in the box.
   */
  private List<String> boxedArgv(Template.Launch launch, String hostId, int index) throws IOException {
    SlotBox box = config.box();
    long uid = SlotBox.uidFor(launch.port());
    box.own(launch.slotDir(), launch.userDir(), uid, LOG_FILE);
    if (box.firewall() != null) {
      box.firewall().allow(uid, launch.port()); // before the process runs: it never has a moment unfiltered
    }
    Path passwd = hostDir(hostId).resolve("slot-" + index + ".passwd");
    SlotBox.writePasswd(passwd, uid, launch.userDir() != null ? launch.userDir() : launch.slotDir());
    List<String> argv = template.boxedArgv(launch);
    List<Path> readOnly = new ArrayList<>(template.readOnlyPaths());
    // Files and directories the operator's command names by absolute path (a script, --directory=/srv/www),
    // read-only; never the state directory, anything in it, or anything holding it.
    Path state = config.stateDir().toAbsolutePath().normalize();
    for (String word : argv) {
      String path = word.startsWith("/") ? word : word.startsWith("-") && word.contains("=/")
          ? word.substring(word.indexOf("=/") + 1) : null;
      if (path == null) {
        continue;
      }
      Path p = Path.of(path).normalize();
      if (p.getNameCount() > 0 && !p.startsWith(state) && !state.startsWith(p)
          && (Files.isRegularFile(p) || Files.isDirectory(p))) {
        readOnly.add(p);
      }
    }
    return box.wrap(argv, uid, launch.slotDir(), launch.userDir(), readOnly, passwd);
  }

  private void killSlot(String slotId, SlotState s) {
    List<SlotProcess> procs = new ArrayList<>();
    SlotProcess mine = processes.remove(slotId);
    if (mine != null) {
      procs.add(mine);
    }
    if (s.process() != null) {
      procs.add(s.process());
    }
    if (!SlotProcess.killAll(procs, KILL_BOUND)) {
      throw new IllegalStateException("process of " + slotId + " survived recycling");
    }
    forgetFirewallRule(s.port());
  }

  /** The slot's own port once it is free again; a retry of the tag tries again when it stays busy. */
  private int samePort(String slotId, int port) {
    long deadline = System.nanoTime() + PORT_FREE_BOUND.toNanos();
    while (System.nanoTime() < deadline) {
      if (port > 0 && slotId.equals(ports.ownerOf(port)) && PortAllocator.bindable(port)) {
        return port;
      }
      sleep(Duration.ofMillis(50));
    }
    throw ApplicationFailure.newFailure("port " + port + " of " + slotId + " is not free for the owner's process",
        "PortBusy");
  }

  /** The slot's port when it is still ours and free again; otherwise a new one. */
  private int reusablePort(String slotId, int port) {
    if (port > 0 && slotId.equals(ports.ownerOf(port))) {
      long deadline = System.nanoTime() + PORT_FREE_BOUND.toNanos();
      while (System.nanoTime() < deadline) {
        if (PortAllocator.bindable(port)) {
          return port;
        }
        sleep(Duration.ofMillis(50));
      }
      log.warn("port {} of {} stayed busy: moving to a new port", port, slotId);
    }
    if (port > 0) {
      ports.release(port, slotId);
    }
    return ports.allocate(slotId);
  }

  // ---- state ---------------------------------------------------------------------------------

  /** {@code userLabel}: whose directory the process runs on (templates that keep user state). */
  private record SlotState(int index, int port, SlotProcess process, String owner, String userLabel) {}

  private static SlotState slotOf(HostState h, int index) {
    return h == null || index >= h.slots().size() ? null : h.slots().get(index);
  }

  private record HostState(String id, long seq, String state, boolean protect, long launchedAt,
                           List<SlotState> slots) {}

  /**
   * Every host's record in one pipelined round trip: the reconciler reads them all under the fleet
   * lock each pass, and a round trip per host (50 at the bench's pool) kept tag and credential
   * writes waiting for it.
   */
  private List<HostState> loadHosts() {
    List<String> ids = List.copyOf(redis.smembers(keys.instances()));
    List<Response<Map<String, String>>> records = new ArrayList<>(ids.size());
    try (AbstractPipeline p = redis.pipelined()) {
      for (String id : ids) {
        records.add(HOST_ID.matcher(id).matches() ? p.hgetAll(keys.instance(id)) : null);
      }
      p.sync();
    }
    List<HostState> hosts = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      HostState h = records.get(i) == null ? null : hostOf(ids.get(i), records.get(i).get());
      if (h == null) {
        redis.srem(keys.instances(), ids.get(i));
      } else {
        hosts.add(h);
      }
    }
    hosts.sort(Comparator.comparingLong(HostState::seq));
    return hosts;
  }

  private HostState loadHost(String id) {
    return hostOf(id, redis.hgetAll(keys.instance(id)));
  }

  private static HostState hostOf(String id, Map<String, String> f) {
    if (f.isEmpty() || f.get("state") == null) {
      return null;
    }
    int n = parseInt(f.get("slots"));
    List<SlotState> slots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long pid = parseLong(f.get("pid." + i));
      SlotProcess p = pid > 0 ? new SlotProcess(pid, parseLong(f.get("start." + i))) : null;
      String user = f.get("user." + i);
      slots.add(new SlotState(i, parseInt(f.get("port." + i)), p, f.get("owner." + i),
          user != null && Labels.validLabel(user) ? user : null));
    }
    return new HostState(id, parseLong(id.substring(2)), f.get("state"), Boolean.parseBoolean(f.get("protected")),
        parseLong(f.get("launchedAt")), List.copyOf(slots));
  }

  private Host toHost(HostState h) {
    List<SlotStatus> slots = h.slots().stream().map(s -> new SlotStatus(
        new Slot(Slot.idOf(h.id(), s.index()), h.id(), s.index(), ADDRESS, s.port(), template.name()),
        s.owner(), s.process() != null && s.process().alive())).toList();
    return new Host(h.id(), h.state(), ADDRESS, h.protect(), h.launchedAt(), slots);
  }

  /** Every live slot of a running host, for the {@link ActivityWatcher}. */
  private List<ActivitySignal.Watched> watchedSlots() {
    List<ActivitySignal.Watched> watched = new ArrayList<>();
    for (HostState h : loadHosts()) {
      if (!RUNNING.equals(h.state())) {
        continue;
      }
      for (SlotState s : h.slots()) {
        if (s.process() != null && s.port() > 0 && s.process().alive()) {
          watched.add(new ActivitySignal.Watched(Slot.idOf(h.id(), s.index()), s.process().pid(), s.port(),
              slotDir(h.id(), s.index()), s.userLabel() == null ? null : userDir(s.userLabel())));
        }
      }
    }
    return watched;
  }

  /** Clamped on read too: the stored value may predate a change of min/max. */
  private int desired() {
    String d = redis.get(desiredKey());
    return clamp(d == null ? config.minHosts() : Integer.parseInt(d));
  }

  private int clamp(int desired) {
    return Math.max(config.minHosts(), Math.min(config.maxHosts(), desired));
  }

  /** Beside {@code inst:seq}; host ids are {@code h-<n>}, so it never names a host. */
  private String desiredKey() {
    return keys.prefix() + "inst:desired";
  }

  private boolean hsetIfExists(String hostId, Map<String, String> fields) {
    List<String> args = new ArrayList<>();
    fields.forEach((k, v) -> {
      args.add(k);
      args.add(v);
    });
    return Long.valueOf(1).equals(redis.eval(HSET_IF_EXISTS, List.of(keys.instance(hostId)), args));
  }

  // ---- files ---------------------------------------------------------------------------------

  private Path fleetDir() {
    return config.stateDir().resolve("fleet");
  }

  private Path hostDir(String hostId) {
    return fleetDir().resolve(hostId);
  }

  private Path slotDir(String hostId, int index) {
    return hostDir(hostId).resolve("slot-" + index);
  }

  private Path slotDir(Slot slot) {
    return slotDir(slot.hostId(), slot.index());
  }

  /**
   * The owner's own directory: named by the label (never the raw user id), outside the fleet
   * directory, so it survives recycles, terminations and {@link #shutdownAll()}.
   */
  private Path userDir(String label) {
    if (!Labels.validLabel(label)) {
      throw invalid("invalid label");
    }
    return config.stateDir().resolve("users").resolve(label);
  }

  /** Everything the slot's processes left, but the log: a recycled slot keeps nothing of its user. */
  private void wipeSlotDir(Slot slot) {
    Path dir = slotDir(slot);
    for (String name : listDir(dir)) {
      // The log stays, unless a slot swapped it for a link or a directory.
      if (!name.equals(LOG_FILE) || !Files.isRegularFile(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(dir.resolve(name));
      }
    }
  }

  /** Beside the slot directory, not in it: the slot directory is the workspace's home. */
  private Path pidFile(String hostId, int index) {
    return hostDir(hostId).resolve("slot-" + index + ".pid");
  }

  private Map<String, SlotProcess> pidFilesOf(String hostId) {
    Map<String, SlotProcess> m = new LinkedHashMap<>();
    for (String name : listDir(hostDir(hostId))) {
      if (name.matches("slot-[0-9]{1,2}\\.pid")) {
        int index = Integer.parseInt(name.substring(5, name.length() - 4));
        try {
          SlotProcess.parse(Files.readString(hostDir(hostId).resolve(name)))
              .ifPresent(p -> m.put(Slot.idOf(hostId, index), p));
        } catch (IOException e) {
          log.debug("unreadable pid file {}/{}", hostId, name);
        }
      }
    }
    return m;
  }

  private Map<String, SlotProcess> pidFiles() {
    Map<String, SlotProcess> m = new LinkedHashMap<>();
    listDir(fleetDir()).stream().filter(n -> HOST_ID.matcher(n).matches()).forEach(h -> m.putAll(pidFilesOf(h)));
    return m;
  }

  private static List<String> listDir(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Written to a private temp file and moved in place, so a reader never sees half of it. */
  private static void writeSecret(Path file, String content) {
    try {
      Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(SECRET_MODE)));
      try {
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        // A boxed slot owns its directory: its files (the token) are its uid's, readable by it and root only.
        int dirOwner = (Integer) Files.getAttribute(file.getParent(), "unix:uid");
        if (dirOwner >= SlotBox.UID_BASE) {
          SlotBox.chown(tmp, dirOwner);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + file.getFileName(), e);
    }
  }

  private static void deleteFile(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + file.getFileName(), e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.debug("could not delete {}", p);
        }
      });
    } catch (IOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }

  // ---- validation ----------------------------------------------------------------------------

  private static void requireHostId(String hostId) {
    if (hostId == null || !HOST_ID.matcher(hostId).matches()) {
      throw invalid("invalid host id");
    }
  }

  private static void requireSlot(Slot slot) {
    if (slot == null) {
      throw invalid("no slot");
    }
    requireHostId(slot.hostId());
    if (slot.index() < 0 || slot.index() >= 64 || !Slot.idOf(slot.hostId(), slot.index()).equals(slot.slotId())) {
      throw invalid("invalid slot");
    }
  }

  private static void requireLive(HostState h, String hostId) {
    if (h == null || TERMINATING.equals(h.state())) {
      throw hostGone(hostId);
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private static ApplicationFailure hostGone(String hostId) {
    return ApplicationFailure.newNonRetryableFailure("host " + hostId + " is gone", "HostGone");
  }

  private static int parseInt(String s) {
    return s == null ? 0 : Integer.parseInt(s);
  }

  private static long parseLong(String s) {
    return s == null ? 0 : Long.parseLong(s);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
