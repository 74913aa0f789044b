package io.berth.activities.fleet.local;

import io.berth.activities.fleet.Fleet;
import io.berth.activities.store.PortAllocator;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * <p>The parts: {@link HostRegistry} (the records in Redis), {@link FleetLayout} (the files),
 * {@link SlotPorts}, {@link SlotProcesses}, {@link FleetRecovery} (what an earlier run left) and
 * {@link HostGroup} (launch, terminate, the reconciler). This class checks what workflows ask and
 * holds the lock.
 *
 * <p>One active instance per Redis prefix: every change is serialized by this JVM's lock.
 */
public final class LocalFleet implements Fleet, AutoCloseable {
  public static final String ADDRESS = "127.0.0.1";
  private static final Logger log = LoggerFactory.getLogger(LocalFleet.class);

  private final LocalFleetConfig config;
  private final Template template;
  private final ReentrantLock lock = new ReentrantLock();
  private final HostRegistry registry;
  private final FleetLayout layout;
  private final SlotPorts ports;
  private final SlotProcesses processes;
  private final FleetRecovery recovery;
  private final HostGroup group;
  private volatile ActivityWatcher activity;

  /** A fleet of one template: its hosts are where a fleet kept them before templates had groups. */
  public LocalFleet(UnifiedJedis redis, RedisKeys keys, PortAllocator ports, LocalFleetConfig config) {
    this(redis, keys, ports, config, new HostGroupStore(config.template().name(), true));
  }

  /** One template's host group of a fleet of several ({@link LocalFleets}). */
  LocalFleet(UnifiedJedis redis, RedisKeys keys, PortAllocator ports, LocalFleetConfig config, HostGroupStore store) {
    this.config = config;
    this.template = config.template();
    this.registry = new HostRegistry(redis, keys, config, store);
    this.layout = new FleetLayout(config.stateDir(), store.fleetDir(config.stateDir()));
    this.ports = new SlotPorts(ports);
    this.processes = new SlotProcesses(config, layout, registry, this.ports);
    this.recovery = new FleetRecovery(registry, layout, this.ports, processes);
    this.group = new HostGroup(config, lock, registry, layout, this.ports, processes, recovery);
  }

  /** Adopts what a previous worker left running, then starts the reconciler. */
  public LocalFleet start() {
    lock.lock();
    try {
      recovery.adopt(group::destroy);
      registry.keepDesired();
    } finally {
      lock.unlock();
    }
    startBackground();
    return this;
  }

  /**
   * {@link #start}'s adoption without freeing stale ports (the groups of a {@link LocalFleets}
   * share the allocator and free them once); returns the adopted slots' ids.
   */
  Set<String> adopt() {
    lock.lock();
    try {
      Set<String> live = recovery.adoptHosts(group::destroy);
      registry.keepDesired();
      return live;
    } finally {
      lock.unlock();
    }
  }

  /** The reconciler and, for a template with an activity signal, its watcher. */
  void startBackground() {
    group.startReconciler();
    template.activitySignal().ifPresent(signal -> activity =
        new ActivityWatcher(signal, config.apiUrl(), this::watchedSlots).start(config.activityInterval()));
  }

  /**
   * Before a fresh start with an embedded Temporal, which kept none of the previous run's
   * workflows: kills every workspace process a previous run under {@code stateDir} left (found by
   * the slot directory in its environment) and deletes its host directories, so that nothing of
   * it is adopted as a host. Users' own directories stay. Returns how many processes were killed.
   */
  public static int clearPreviousRun(Path stateDir) {
    return FleetRecovery.clearPreviousRun(stateDir);
  }

  public LocalFleetConfig config() {
    return config;
  }

  /** Whether this fleet's slots run in a {@link SlotBox}. */
  public boolean boxed() {
    return processes.boxed();
  }

  // ---- Fleet ---------------------------------------------------------------------------------

  @Override
  public FleetSnapshot describe() {
    List<Host> hosts = registry.loadAll().stream().map(h -> h.toHost(template.name())).toList();
    return new FleetSnapshot(registry.desired(), config.minHosts(), config.maxHosts(), hosts);
  }

  @Override
  public void setDesiredCapacity(int desired) {
    registry.setDesired(desired);
    group.wake();
  }

  @Override
  public void tagOwner(Slot slot, String owner) {
    FleetInput.requireSlot(slot);
    if (owner != null && !Labels.validKey(owner)) {
      throw FleetInput.invalid("invalid owner");
    }
    int restartedOn;
    lock.lock();
    try {
      if (owner == null) {
        untag(slot);
        return;
      }
      restartedOn = tagLocked(slot, owner);
    } finally {
      lock.unlock();
    }
    if (restartedOn > 0) {
      processes.awaitServing(slot, restartedOn);
    }
  }

  /** Under the lock; returns the port of the process restarted for the owner, 0 when none was. */
  private int tagLocked(Slot slot, String owner) {
    HostState h = registry.load(slot.hostId());
    FleetInput.requireLive(h, slot.hostId());
    SlotState s = HostState.slotOf(h, slot.index());
    if (s != null && s.owner() != null && !s.owner().equals(owner)) {
      // Claimed twice (Redis lost the claim mark in between): the first owner keeps it, this saga compensates.
      throw ApplicationFailure.newNonRetryableFailure("slot " + slot.slotId() + " already has an owner", "SlotTaken");
    }
    registry.setOwner(slot.hostId(), slot.index(), owner);
    String label = Labels.labelFor(owner);
    int restartedOn = s != null && template.keepsUserState() && needsRestartFor(s, label)
        ? processes.restart(slot, s, label) : 0;
    layout.writeOwner(slot, owner);
    return restartedOn;
  }

  /** Under the lock. */
  private void untag(Slot slot) {
    HostState h = registry.load(slot.hostId());
    if (h != null) {
      registry.clearOwner(slot.hostId(), slot.index());
      SlotState s = HostState.slotOf(h, slot.index());
      if (s != null && s.userLabel() != null && h.running()) {
        // The owner's process must not serve anyone else, even for the moment until the recycle.
        processes.restart(slot, s, null);
      }
    }
    layout.deleteOwner(slot);
  }

  private static boolean needsRestartFor(SlotState s, String label) {
    return !label.equals(s.userLabel()) || !s.alive();
  }

  @Override
  public String ownerOf(Slot slot) {
    FleetInput.requireSlot(slot);
    return registry.ownerOf(slot.hostId(), slot.index());
  }

  @Override
  public void setProtected(String hostId, boolean protect) {
    FleetInput.requireHostId(hostId);
    if (!registry.setProtected(hostId, protect) && protect) {
      throw FleetInput.hostGone(hostId);
    }
  }

  @Override
  public void recycleSlot(Slot slot) {
    FleetInput.requireSlot(slot);
    lock.lock();
    try {
      HostState h = registry.load(slot.hostId());
      if (h == null || !h.running() || slot.index() >= h.slots().size()) {
        log.info("recycle {}: host not running, nothing to do", slot.slotId());
        return;
      }
      SlotState s = h.slots().get(slot.index());
      processes.kill(slot.slotId(), s);
      registry.clearOwner(slot.hostId(), slot.index());
      layout.wipeSlotDir(slot);
      processes.start(slot.hostId(), slot.index(), ports.reusablePort(slot.slotId(), s.port()), null);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
    FleetInput.requireHostId(hostId);
    lock.lock();
    try {
      group.terminate(hostId, decrement);
    } finally {
      lock.unlock();
    }
    group.wake();
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    FleetInput.requireSlot(slot);
    if (!Labels.validKey(user)) {
      throw FleetInput.invalid("invalid user id");
    }
    FleetInput.requireToken(heartbeatToken);
    lock.lock();
    try {
      FleetInput.requireLive(registry.load(slot.hostId()), slot.hostId());
      layout.writeOwner(slot, user);
      layout.writeToken(slot, heartbeatToken);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void revokeCredentials(Slot slot) {
    FleetInput.requireSlot(slot);
    layout.deleteToken(slot);
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
    stopBackground();
    lock.lock();
    try {
      group.destroyAll();
    } finally {
      lock.unlock();
    }
  }

  /** Stops the reconciler and leaves every process running for the next instance to adopt. */
  public void detach() {
    stopBackground();
    processes.forgetAll();
  }

  private void stopBackground() {
    ActivityWatcher watcher = activity;
    if (watcher != null) {
      watcher.close();
    }
    group.stopReconciler();
  }

  /** One reconciler pass, now. */
  void reconcile() {
    group.reconcile();
  }

  /** Every live slot of a running host, for the {@link ActivityWatcher}. */
  private List<ActivitySignal.Watched> watchedSlots() {
    List<ActivitySignal.Watched> watched = new ArrayList<>();
    for (HostState h : registry.loadAll()) {
      if (!h.running()) {
        continue;
      }
      for (SlotState s : h.slots()) {
        if (s.port() > 0 && s.alive()) {
          watched.add(new ActivitySignal.Watched(Slot.idOf(h.id(), s.index()), s.process().pid(), s.port(),
              layout.slotDir(h.id(), s.index()), s.userLabel() == null ? null : layout.userDir(s.userLabel())));
        }
      }
    }
    return watched;
  }
}
