package io.berth.workflows;

import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityMemory.ProbeFailures;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;

/**
 * The fleet controller. Each pass: describe the fleet and the pool, drop dead spares, onboard
 * probed slots, quarantine hosts that keep failing, size the fleet, wake cold-path waiters.
 */
public class CapacityWorkflowImpl implements CapacityWorkflow {
  private static final Logger log = Workflow.getLogger(CapacityWorkflowImpl.class);
  private static final int DECISIONS_KEPT = 20;

  private final StoreActivities store = ActivityStubs.controlStore();
  private final FleetActivities fleet = ActivityStubs.controlFleet();
  private final ProbeActivities probe = ActivityStubs.probeOnce();

  private CapacityParams params;
  private long lastScaleOut;
  private long wantedFewerSince;
  private final Map<String, ProbeFailures> probeFailures = new HashMap<>();
  /** Cold-path waiters by workflow id, in arrival order. */
  private final Map<String, CapacityRequest> waiters = new LinkedHashMap<>();
  private final List<ScalingDecision> decisions = new ArrayList<>();
  private boolean poked;
  private FleetSnapshot lastFleet = new FleetSnapshot(0, 0, 0, List.of());
  private PoolState lastPool = new PoolState(List.of(), List.of(), List.of());

  @Override
  public void run(CapacityParams initial) {
    params = initial;
    CapacityMemory m = initial.memory() == null ? CapacityMemory.empty() : initial.memory();
    lastScaleOut = m.lastScaleOutMillis();
    wantedFewerSince = m.wantedFewerSinceMillis();
    probeFailures.putAll(m.probeFailures());
    m.waiters().forEach(w -> waiters.put(w.workflowId(), w));
    decisions.addAll(m.decisions());
    for (int i = 0; i < params.iterationsBeforeContinueAsNew(); i++) {
      poked = false;
      try {
        reconcile();
      } catch (ActivityFailure e) {
        log.warn("reconcile failed, retrying next pass: {}", e.getMessage());
      }
      Workflow.await(params.reconcileInterval(), () -> poked);
    }
    Workflow.await(Workflow::isEveryHandlerFinished);
    Workflow.continueAsNew(params.withMemory(new CapacityMemory(lastScaleOut, wantedFewerSince,
        Map.copyOf(probeFailures), List.copyOf(waiters.values()), List.copyOf(decisions))));
  }

  private void reconcile() {
    FleetSnapshot snapshot = fleet.describeFleet();
    PoolState pool = store.poolState(params.template());
    Set<String> spares = new HashSet<>(pool.spares());
    dropDeadSpares(snapshot, spares);
    recoverOwners(snapshot, new HashSet<>(pool.users()));
    quarantine(snapshot, pool.quarantined());
    boolean onboarding = onboard(snapshot, spares, new HashSet<>(pool.quarantined()));
    size(snapshot, spares);
    lastFleet = snapshot;
    lastPool = new PoolState(List.copyOf(spares), pool.quarantined(), pool.users());
    wakeWaiters(spares);
    if (!params.queue() && spares.isEmpty() && !onboarding && !canGrow(snapshot)) {
      denyWaiters(snapshot);
    }
  }

  /** Spares whose process died or whose host is gone leave the pool; live hosts get a fresh process. */
  private void dropDeadSpares(FleetSnapshot snapshot, Set<String> spares) {
    Map<String, SlotStatus> bySlot = slotsById(snapshot);
    List<String> dead = spares.stream()
        .filter(id -> !bySlot.containsKey(id) || !bySlot.get(id).alive())
        .sorted().toList();
    if (dead.isEmpty()) {
      return;
    }
    store.removeSpares(params.template(), dead);
    dead.forEach(spares::remove);
    for (String id : dead) {
      SlotStatus s = bySlot.get(id);
      if (s != null) {
        fleet.recycleSlot(s.slot());
      }
    }
    decide(snapshot.desired(), snapshot.desired(), "replace-spares", dead.size() + " dead spare(s) replaced");
  }

  /**
   * Owner tags the read model does not know (Redis lost its data, or a worker died mid-teardown):
   * a live workspace workflow rewrites its session; a slot whose workflow is gone is an orphan and
   * is recycled, untagged and unprotected. Protection without any owner is cleared too.
   */
  private void recoverOwners(FleetSnapshot snapshot, Set<String> users) {
    for (Host h : snapshot.hosts()) {
      for (SlotStatus s : h.slots()) {
        if (s.owner() != null && !users.contains(s.owner())) {
          recoverOwner(snapshot, s);
        }
      }
      if (h.running() && h.scaleInProtected() && !h.owned() && !h.slots().isEmpty()) {
        fleet.unprotectHost("reconcile", h.slots().get(0).slot());
      }
    }
  }

  private void recoverOwner(FleetSnapshot snapshot, SlotStatus s) {
    String owner = s.owner();
    Promise<Void> resync = Async.procedure(
        () -> Workflow.newUntypedExternalWorkflowStub(WorkspaceWorkflow.idFor(owner)).signal("resync"));
    try {
      resync.get();
    } catch (RuntimeException noLiveWorkflow) {
      if (!stillOwnedBy(s.slot(), owner)) {
        return; // a teardown finished since our snapshot: not an orphan
      }
      fleet.recycleSlot(s.slot());
      fleet.untagOwner("orphan", s.slot(), owner);
      fleet.unprotectHost("orphan", s.slot());
      decide(snapshot.desired(), snapshot.desired(), "recycle-orphan", s.slot().slotId() + " had no live workspace");
    }
  }

  private boolean stillOwnedBy(Slot slot, String owner) {
    return fleet.describeFleet().hosts().stream().flatMap(h -> h.slots().stream())
        .anyMatch(x -> x.slot().slotId().equals(slot.slotId()) && owner.equals(x.owner()));
  }

  /** Quarantined slots take their host down (without decrement: the fleet launches a replacement). */
  private void quarantine(FleetSnapshot snapshot, List<String> quarantined) {
    if (quarantined.isEmpty()) {
      return;
    }
    Map<String, SlotStatus> bySlot = slotsById(snapshot);
    Set<String> hosts = new LinkedHashSet<>();
    for (String id : quarantined) {
      SlotStatus s = bySlot.get(id);
      if (s != null && ownerless(snapshot, s.slot().hostId())) {
        hosts.add(s.slot().hostId());
      }
    }
    hosts.forEach(h -> terminateBroken(snapshot, h, "slot quarantined"));
    List<String> gone = quarantined.stream()
        .filter(id -> !bySlot.containsKey(id) || hosts.contains(bySlot.get(id).slot().hostId()))
        .toList();
    if (!gone.isEmpty()) {
      store.clearQuarantine(gone);
    }
  }

  /**
   * Probes every unowned live slot of a running host in parallel: newcomers that pass join the
   * pool; spares that fail leave it for a fresh process. A host failing {@code probeAttempts}
   * passes in a row is terminated. Returns whether slots are still coming up (not ready yet).
   */
  private boolean onboard(FleetSnapshot snapshot, Set<String> spares, Set<String> quarantined) {
    List<Slot> candidates = new ArrayList<>();
    for (Host h : snapshot.hosts()) {
      if (!h.running()) {
        continue;
      }
      for (SlotStatus s : h.slots()) {
        String id = s.slot().slotId();
        if (s.owner() == null && s.alive() && !quarantined.contains(id)
            && params.template().equals(s.slot().template())) {
          candidates.add(s.slot());
        }
      }
    }
    if (candidates.isEmpty()) {
      return false;
    }
    List<Promise<ProbeResult>> probes = candidates.stream()
        .map(s -> Async.function(probe::probeSlot, s)).toList();
    List<Slot> ready = new ArrayList<>();
    List<Slot> failedSpares = new ArrayList<>();
    Set<String> failedHosts = new LinkedHashSet<>();
    Set<String> passedHosts = new HashSet<>();
    for (int i = 0; i < candidates.size(); i++) {
      Slot s = candidates.get(i);
      if (probeResult(probes.get(i)).ready()) {
        passedHosts.add(s.hostId());
        if (!spares.contains(s.slotId())) {
          ready.add(s);
        }
      } else {
        failedHosts.add(s.hostId());
        if (spares.contains(s.slotId())) {
          failedSpares.add(s);
        }
        BerthCounters.count(Workflow.getMetricsScope(), Counter.PROBE_FAILURES, "pool");
      }
    }
    if (!ready.isEmpty()) {
      store.addSpares(params.template(), ready);
      ready.forEach(s -> spares.add(s.slotId()));
    }
    replaceFailedSpares(snapshot, spares, failedSpares);
    passedHosts.stream().filter(h -> !failedHosts.contains(h)).forEach(probeFailures::remove);
    for (String hostId : failedHosts) {
      int n = probeFailures.merge(hostId, new ProbeFailures(0, 0).next(Workflow.currentTimeMillis()),
          (old, fresh) -> old.next(Workflow.currentTimeMillis())).count();
      if (n >= params.probeAttempts() && ownerless(snapshot, hostId)) {
        terminateBroken(snapshot, hostId, "probe failed " + n + " times");
      }
    }
    // Slots that did not answer yet may still come up (a fresh process, a booting host).
    return !failedHosts.isEmpty();
  }

  /** A spare that stopped answering leaves the pool and gets a fresh process (unless it was claimed meanwhile). */
  private void replaceFailedSpares(FleetSnapshot snapshot, Set<String> spares, List<Slot> failed) {
    if (failed.isEmpty()) {
      return;
    }
    List<String> taken = store.removeSpares(params.template(), failed.stream().map(Slot::slotId).toList());
    for (Slot s : failed) {
      if (taken.contains(s.slotId())) {
        spares.remove(s.slotId());
        fleet.recycleSlot(s);
      }
    }
    decide(snapshot.desired(), snapshot.desired(), "replace-spares", taken.size() + " unresponsive spare(s) replaced");
  }

  private static ProbeResult probeResult(Promise<ProbeResult> p) {
    try {
      return p.get();
    } catch (ActivityFailure e) {
      return new ProbeResult(false, 0, e.getMessage());
    }
  }

  private void terminateBroken(FleetSnapshot snapshot, String hostId, String why) {
    probeFailures.remove(hostId);
    List<String> slotIds = snapshot.hosts().stream().filter(h -> h.hostId().equals(hostId))
        .flatMap(h -> h.slots().stream()).map(s -> s.slot().slotId()).toList();
    if (!slotIds.isEmpty()) {
      store.removeSpares(params.template(), slotIds);
    }
    fleet.terminateHost(hostId, false);
    BerthCounters.count(Workflow.getMetricsScope(), Counter.HOSTS_QUARANTINED, null);
    decide(snapshot.desired(), snapshot.desired(), "quarantine", hostId + ": " + why);
  }

  /** target = clamp(min, max, ceil((active + spares + waiting) / slotsPerHost)). */
  private void size(FleetSnapshot snapshot, Set<String> spares) {
    long now = Workflow.currentTimeMillis();
    int active = (int) snapshot.hosts().stream().flatMap(h -> h.slots().stream()).filter(s -> s.owner() != null)
        .count();
    int needed = active + params.spares() + waiters.size();
    int target = clamp((needed + params.slotsPerHost() - 1) / params.slotsPerHost());
    int desired = snapshot.desired();
    if (target > desired) {
      wantedFewerSince = 0;
      boolean launching = snapshot.hosts().stream().anyMatch(h -> "PENDING".equals(h.state()));
      if (!launching || now - lastScaleOut >= params.scaleOutCooldown().toMillis()) {
        int to = Math.min(target, desired + params.scaleOutStep());
        fleet.setDesiredCapacity(to);
        lastScaleOut = now;
        decide(desired, to, "scale-out", "need " + needed + " slots (" + active + " active, " + params.spares()
            + " spares, " + waiters.size() + " waiting)");
      }
    } else if (target < desired) {
      if (wantedFewerSince == 0) {
        wantedFewerSince = now;
      } else if (now - wantedFewerSince >= params.stableWindow().toMillis()) {
        scaleIn(snapshot, spares, desired, target, needed);
      }
    } else {
      wantedFewerSince = 0;
    }
  }

  /** Only hosts with no owner and no protection go, emptiest-looking newest first, each with decrement. */
  private void scaleIn(FleetSnapshot snapshot, Set<String> spares, int desired, int target, int needed) {
    List<Host> empty = snapshot.hosts().stream()
        .filter(h -> h.running() && !h.owned() && !h.scaleInProtected())
        .sorted(Comparator.comparingLong(Host::launchedAtMillis).reversed())
        .toList();
    int removed = 0;
    for (Host h : empty) {
      if (desired - removed <= target) {
        break;
      }
      List<String> ids = h.slots().stream().map(s -> s.slot().slotId()).toList();
      List<String> taken = store.removeSpares(params.template(), ids);
      if (!taken.containsAll(ids)) {
        // A slot is claimed (maybe not tagged yet) or not onboarded: give the rest back, keep the host.
        store.addSpares(params.template(), h.slots().stream().map(SlotStatus::slot)
            .filter(s -> taken.contains(s.slotId())).toList());
        continue;
      }
      ids.forEach(spares::remove);
      fleet.terminateHost(h.hostId(), true);
      removed++;
    }
    if (removed > 0) {
      decide(desired, desired - removed, "scale-in", "need " + needed + " slots; " + removed + " empty host(s) removed");
    }
    wantedFewerSince = 0;
  }

  /** The first waiters, one per spare, in arrival order; they leave the queue when they cancel. */
  private void wakeWaiters(Set<String> spares) {
    waiters.keySet().stream().limit(spares.size()).toList().forEach(id -> signalWorkspace(id, "spareAvailable", null));
  }

  /** Nothing is launching, nothing is coming up, and the fleet is at its maximum. */
  private boolean canGrow(FleetSnapshot snapshot) {
    boolean launching = snapshot.hosts().stream().anyMatch(h -> "PENDING".equals(h.state()));
    return launching || snapshot.desired() < params.maxHosts();
  }

  private void denyWaiters(FleetSnapshot snapshot) {
    if (waiters.isEmpty()) {
      return;
    }
    String why = "at capacity: all " + params.maxHosts() + " host(s) are in use; try again later";
    waiters.keySet().forEach(id -> signalWorkspace(id, "noCapacity", why));
    decide(snapshot.desired(), snapshot.desired(), "at-capacity", waiters.size() + " request(s) turned away");
    waiters.clear();
  }

  private static void signalWorkspace(String workflowId, String signal, String arg) {
    Async.procedure(() -> {
      if (arg == null) {
        Workflow.newUntypedExternalWorkflowStub(workflowId).signal(signal);
      } else {
        Workflow.newUntypedExternalWorkflowStub(workflowId).signal(signal, arg);
      }
    });
  }

  private int clamp(int n) {
    return Math.max(params.minHosts(), Math.min(params.maxHosts(), n));
  }

  private static boolean ownerless(FleetSnapshot snapshot, String hostId) {
    return snapshot.hosts().stream().filter(h -> h.hostId().equals(hostId)).noneMatch(Host::owned);
  }

  private static Map<String, SlotStatus> slotsById(FleetSnapshot snapshot) {
    Map<String, SlotStatus> m = new HashMap<>();
    snapshot.hosts().forEach(h -> h.slots().forEach(s -> m.put(s.slot().slotId(), s)));
    return m;
  }

  private void decide(int from, int to, String action, String why) {
    decisions.add(new ScalingDecision(Workflow.currentTimeMillis(), from, to, action, why));
    while (decisions.size() > DECISIONS_KEPT) {
      decisions.remove(0);
    }
  }

  @Override
  public void poke(String reason) {
    poked = true;
  }

  @Override
  public void needCapacity(CapacityRequest request) {
    boolean isNew = waiters.putIfAbsent(request.workflowId(), request) == null;
    poked |= isNew;
  }

  @Override
  public void cancelNeed(String workspaceWorkflowId) {
    waiters.remove(workspaceWorkflowId);
  }

  @Override
  public void reconfigure(CapacityParams next) {
    params = next.withMemory(null);
    poked = true;
  }

  @Override
  public CapacityStatus status() {
    List<SlotStatus> slots = lastFleet.hosts().stream().flatMap(h -> h.slots().stream()).toList();
    int used = (int) slots.stream().filter(s -> s.owner() != null).count();
    int actual = (int) lastFleet.hosts().stream().filter(Host::running).count();
    return new CapacityStatus(lastFleet.desired(), actual, params.minHosts(), params.maxHosts(),
        params.slotsPerHost(), used, slots.size() - used, lastPool.spares().size(), params.spares(),
        lastPool.sessions(), waiters.size(), lastFleet.hosts(), List.copyOf(decisions));
  }
}
