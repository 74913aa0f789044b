package io.berth.activities.fleet.local;

import io.berth.workflows.model.Slot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group's scaling, as an Auto Scaling group does it: a reconciler thread launches hosts while
 * fewer than desired run and terminates unprotected ones, newest first, while more do; a
 * termination kills a host's processes, frees its ports and directory and forgets it. Every
 * change happens under the fleet's lock.
 */
final class HostGroup {
  private static final Logger log = LoggerFactory.getLogger(HostGroup.class);

  private final LocalFleetConfig config;
  private final ReentrantLock lock;
  private final HostRegistry registry;
  private final FleetLayout layout;
  private final SlotPorts ports;
  private final SlotProcesses processes;
  private final FleetRecovery recovery;
  private final AtomicBoolean wakeQueued = new AtomicBoolean();
  private volatile ScheduledExecutorService reconciler;
  private volatile boolean closed;

  HostGroup(LocalFleetConfig config, ReentrantLock lock, HostRegistry registry, FleetLayout layout, SlotPorts ports,
            SlotProcesses processes, FleetRecovery recovery) {
    this.config = config;
    this.lock = lock;
    this.registry = registry;
    this.layout = layout;
    this.ports = ports;
    this.processes = processes;
    this.recovery = recovery;
  }

  // ---- reconciler thread ---------------------------------------------------------------------

  /** A pass at once, then one every reconcile interval and whenever {@link #wake()} asks for one. */
  void startReconciler() {
    ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "local-fleet-reconciler");
      t.setDaemon(true);
      return t;
    });
    reconciler = ex;
    long every = config.reconcileInterval().toMillis();
    ex.scheduleWithFixedDelay(this::reconcileQuietly, 0, every, TimeUnit.MILLISECONDS);
  }

  /** No pass starts after this; a running one is interrupted and awaited. */
  void stopReconciler() {
    closed = true;
    ScheduledExecutorService ex = reconciler;
    if (ex != null) {
      ex.shutdownNow();
      try {
        if (!ex.awaitTermination(SlotProcesses.KILL_BOUND.toSeconds() * 2, TimeUnit.SECONDS)) {
          log.warn("reconciler did not stop in time");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A pass soon, at most one queued at a time. */
  void wake() {
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

  // ---- one pass ------------------------------------------------------------------------------

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
      if (recovery.recoverUnrecorded() > 0) {
        registry.keepDesired();
      }
      int desired = registry.desired();
      List<HostState> hosts = registry.loadAll();
      hosts.stream().filter(HostState::terminating).forEach(this::finishTermination);
      List<HostState> up = hosts.stream().filter(HostState::up).toList();
      for (int n = up.size(); n < desired && !closed; n++) {
        String id = recordNewHost();
        if (id != null) {
          launching.add(id);
        }
      }
      int excess = up.size() - desired;
      if (excess > 0) {
        List<HostState> victims = up.stream()
            .filter(h -> h.running() && !h.protect())
            .sorted(Comparator.comparingLong(HostState::launchedAt).thenComparingLong(HostState::seq).reversed())
            .limit(excess).toList();
        for (HostState h : victims) {
          log.info("scale-in: terminating {} (desired {})", h.id(), desired);
          terminate(h.id(), false);
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
    registry.recordPending(id, launchedAt);
    try {
      layout.createHost(id, launchedAt, config.slotsPerHost(), config.template().name());
      return id;
    } catch (RuntimeException e) {
      log.warn("launch of {} failed, removing it: {}", id, e.toString());
      terminate(id, false);
      return null;
    }
  }

  /**
   * The next id of the sequence that no group has a directory or a record of (the sequence may have
   * restarted with Redis, and every template's group draws from it).
   */
  private String newHostId() {
    for (int i = 0; i < 10_000; i++) {
      String id = registry.nextHostId();
      if (!layout.anyGroupHasHostDir(id) && !registry.recorded(id)) {
        return id;
      }
    }
    throw new IllegalStateException("no free host id: every id tried has a directory");
  }

  /**
   * Outside the lock: starts the host's slot processes, then (under the lock) marks it RUNNING,
   * unless it was terminated meanwhile: then what this started goes too.
   */
  private void launchHost(String id) {
    RuntimeException failed = null;
    try {
      for (int i = 0; i < config.slotsPerHost() && !closed; i++) {
        processes.start(id, i, ports.allocate(Slot.idOf(id, i)), null);
      }
    } catch (RuntimeException e) {
      failed = e;
    }
    lock.lock();
    try {
      HostState h = registry.load(id);
      if (failed != null || closed || h == null || !h.pending()) {
        log.warn("launch of {} did not complete ({}), removing it", id,
            failed != null ? failed.toString() : h == null ? "its record is gone" : "now " + h.state());
        abandonLaunch(id, h);
        return;
      }
      // Readiness is the capacity workflow's probe; the fleet only says the processes started.
      registry.markRunning(id);
      log.info("launched {} with {} slot(s) of {}", id, config.slotsPerHost(), config.template().name());
    } catch (RuntimeException e) {
      log.warn("could not finish the launch of {}: {}", id, e.toString());
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: what a launch that did not complete started goes, and the host with it. */
  private void abandonLaunch(String id, HostState h) {
    List<SlotProcess> started = new ArrayList<>();
    for (int i = 0; i < config.slotsPerHost(); i++) {
      SlotProcess p = processes.forget(Slot.idOf(id, i));
      if (p != null) {
        started.add(p);
      }
    }
    SlotProcesses.killAll(started);
    if (h != null) {
      terminate(id, false);
    } else {
      layout.deleteHost(id);
    }
  }

  // ---- termination ---------------------------------------------------------------------------

  /** Under the lock. With {@code decrement}, the desired capacity goes down by one (once, however often retried). */
  void terminate(String hostId, boolean decrement) {
    if (!registry.beginTermination(hostId, decrement)) {
      return;
    }
    HostState h = registry.load(hostId);
    if (h != null) {
      destroy(h);
    }
    log.info("terminated {}{}", hostId, decrement ? " (desired decremented)" : "");
  }

  /** Kills the host's processes, frees its ports and directory, forgets it. */
  void destroy(HostState h) {
    List<SlotProcess> procs = new ArrayList<>();
    for (SlotState s : h.slots()) {
      SlotProcess mine = processes.forget(Slot.idOf(h.id(), s.index()));
      if (mine != null) {
        procs.add(mine);
      }
      if (s.process() != null) {
        procs.add(s.process());
      }
    }
    procs.addAll(layout.pidFilesOf(h.id()).values());
    if (!SlotProcesses.killAll(procs)) {
      throw new IllegalStateException("processes of " + h.id() + " survived termination");
    }
    for (SlotState s : h.slots()) {
      if (s.port() > 0) {
        processes.forgetFirewallRule(s.port());
        ports.release(s.port(), Slot.idOf(h.id(), s.index()));
      }
    }
    layout.deleteHost(h.id());
    registry.forget(h.id());
  }

  /** A termination that failed half-way (a process that would not die) is retried on every pass. */
  private void finishTermination(HostState h) {
    try {
      destroy(h);
    } catch (RuntimeException e) {
      log.warn("termination of {} still incomplete: {}", h.id(), e.toString());
    }
  }

  /**
   * Under the lock, with the reconciler stopped: kills every slot process this fleet knows of, from
   * memory, Redis and the pid files, then forgets the hosts. Works when Redis is already gone.
   */
  void destroyAll() {
    Map<String, SlotProcess> all = processes.snapshot();
    List<HostState> hosts = List.of();
    try {
      hosts = registry.loadAll();
      hosts.forEach(h -> h.slots().forEach(s -> {
        if (s.process() != null) {
          all.putIfAbsent(Slot.idOf(h.id(), s.index()), s.process());
        }
      }));
    } catch (RuntimeException e) {
      log.warn("redis unavailable at shutdown, killing from pid files: {}", e.toString());
    }
    layout.pidFiles().forEach(all::putIfAbsent);
    if (!SlotProcesses.killAll(all.values())) {
      log.warn("some slot processes survived shutdown");
    }
    processes.forgetAll();
    try {
      for (HostState h : hosts) {
        h.slots().forEach(s -> {
          processes.forgetFirewallRule(s.port());
          ports.release(s.port(), Slot.idOf(h.id(), s.index()));
        });
        registry.forget(h.id());
      }
    } catch (RuntimeException e) {
      log.warn("could not clear host state in redis: {}", e.toString());
    }
    layout.deleteFleet();
  }
}
