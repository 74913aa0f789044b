package io.berth.workflows;

import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityMemory.ProbeFailures;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassView.HostSlots;
import io.berth.workflows.model.PassView.ProbeCandidate;
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
import java.time.Duration;
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
  /**
   * Since version 1: one small {@code passView} activity instead of describeFleet + poolState,
   * scale-out by what is waiting (bypassing the cooldown), and quick passes while requests wait for
   * capacity that is coming up. Histories recorded before it replay the old passes.
   */
  static final String COMPACT_PASS = "compact-pass";
  /**
   * Since version 1: pooled spares are probed by a pass only when the last such probe is a reconcile
   * interval old (newcomers on every pass). Pokes from allocations and teardowns bring passes many
   * times a second under a burst, and each used to probe the whole pool again.
   */
  static final String SPARE_PROBES_DUE = "spare-probes-due";
  /**
   * Since version 1 an orphan's slot also loses its dead workflow's claim: the claim kept the recycled
   * slot out of the pool for good (every pass probed it and the pool refused it).
   */
  static final String ORPHAN_CLAIMS = "orphan-claims";
  /** Slots tagged with a user whose session is on another slot are recycled as orphans. */
  static final String LEFT_BEHIND = "left-behind";
  /** Claims with no owner whose workflow is gone are undone (the pass view lists the claims). */
  static final String DEAD_CLAIMS = "dead-claims";
  /** Owned hosts without scale-in protection are protected again (the pass view lists them). */
  static final String PROTECT_OWNED = "protect-owned";
  /** The pass interval while requests wait for hosts that are launching or not serving yet. */
  static final Duration WAITING_INTERVAL = Duration.ofSeconds(1);

  private final StoreActivities store = ActivityStubs.controlStore();
  private final FleetActivities fleet = ActivityStubs.controlFleet();
  private final ClaimActivities claims = ActivityStubs.controlClaims();
  private final ProbeActivities probe = ActivityStubs.probeOnce();

  private CapacityParams params;
  private long lastScaleOut;
  private long wantedFewerSince;
  private final Map<String, ProbeFailures> probeFailures = new HashMap<>();
  /** Cold-path waiters by workflow id, in arrival order. */
  private final Map<String, CapacityRequest> waiters = new LinkedHashMap<>();
  private final List<ScalingDecision> decisions = new ArrayList<>();
  private boolean poked;
  /** This run's passes use {@link PassView} (version {@value #COMPACT_PASS} 1). */
  private boolean compact;
  /** Capacity was asked for and is not serving yet: while requests wait, the next pass comes sooner. */
  private boolean comingUp;
  /** Which pooled spares the next pass probes, when there are more than a pass probes. */
  private int probeCursor;
  /** When a pass last probed the pooled spares (workflow clock); 0: not in this run yet. */
  private long sparesProbedAt;
  /** Claims without an owner a pass found, by request id, and since when (see {@link #dueAfterAnInterval}). */
  private final Map<String, Long> claimSeenSince = new HashMap<>();
  /** Owned hosts a pass found unprotected, and since when (see {@link #dueAfterAnInterval}). */
  private final Map<String, Long> unprotectedSince = new HashMap<>();
  private boolean scaledOut;
  private CapacityStatus lastStatus = new CapacityStatus(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of(), List.of());

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
      Workflow.await(nextPassIn(), () -> poked);
    }
    Workflow.await(Workflow::isEveryHandlerFinished);
    Workflow.continueAsNew(params.withMemory(new CapacityMemory(lastScaleOut, wantedFewerSince,
        Map.copyOf(probeFailures), List.copyOf(waiters.values()), List.copyOf(decisions))));
  }

  private Duration nextPassIn() {
    if (compact && comingUp && !waiters.isEmpty() && WAITING_INTERVAL.compareTo(params.reconcileInterval()) < 0) {
      return WAITING_INTERVAL;
    }
    return params.reconcileInterval();
  }

  private void reconcile() {
    compact = Workflow.getVersion(COMPACT_PASS, Workflow.DEFAULT_VERSION, 1) >= 1;
    if (compact) {
      reconcile(store.passView(params.template(), probeCursor));
    } else {
      reconcileFromSnapshot();
    }
  }

  /** The pass before {@value #COMPACT_PASS}: the whole fleet and pool through history. Kept for replay. */
  private void reconcileFromSnapshot() {
    FleetSnapshot snapshot = fleet.describeFleet();
    PoolState pool = store.poolState(params.template());
    Set<String> spares = new HashSet<>(pool.spares());
    dropDeadSpares(snapshot, spares);
    recoverOwners(snapshot, new HashSet<>(pool.users()));
    quarantine(snapshot, pool.quarantined());
    boolean onboarding = onboard(snapshot, spares, new HashSet<>(pool.quarantined()));
    size(snapshot, spares);
    lastStatus = statusOf(snapshot, spares.size(), pool.sessions());
    wakeWaiters(spares.size());
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
          recoverOwner(snapshot.desired(), s, () -> stillOwnedBy(s.slot(), s.owner()));
        }
      }
      if (h.running() && h.scaleInProtected() && !h.owned() && !h.slots().isEmpty()) {
        fleet.unprotectHost(FleetActivities.HOST_WIDE, h.slots().get(0).slot());
      }
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

  // ---- the compact pass (version 1 of COMPACT_PASS) -------------------------------------------

  /** One pass on {@link PassView}: the same steps as before, on the slots the view lists. */
  private void reconcile(PassView v) {
    int spares = v.spares();
    dropDeadSpares(v);
    recoverOwners(v);
    quarantine(v);
    Onboarding o = onboard(v);
    spares += o.sparesDelta();
    scaledOut = false;
    spares -= size(v);
    comingUp = scaledOut || o.notServingYet() || v.launching() || v.desired() > v.runningHosts();
    lastStatus = new CapacityStatus(v.desired(), v.runningHosts(), 0, 0, 0, v.activeSlots(),
        v.slots() - v.activeSlots(), spares, 0, v.sessions(), 0, v.hosts(), List.of());
    wakeWaiters(spares);
    if (!params.queue() && spares <= 0 && !o.notServingYet() && !v.launching() && v.desired() >= params.maxHosts()) {
      denyWaiters(v.desired());
    }
  }

  private void dropDeadSpares(PassView v) {
    List<String> ids = new ArrayList<>(v.goneSpares());
    v.deadSpares().forEach(s -> ids.add(s.slotId()));
    if (ids.isEmpty()) {
      return;
    }
    store.removeSpares(params.template(), ids);
    v.deadSpares().forEach(fleet::recycleSlot);
    decide(v.desired(), v.desired(), "replace-spares", ids.size() + " dead spare(s) replaced");
  }

  private void recoverOwners(PassView v) {
    for (SlotStatus s : v.strayOwners()) {
      recoverOwner(v.desired(), s, () -> stillTagged(s));
    }
    for (Slot s : v.unprotect()) {
      fleet.unprotectHost(FleetActivities.HOST_WIDE, s);
    }
    recoverLeftBehind(v);
    protectOwned(v);
    dropDeadClaims(v);
  }

  /**
   * A claim with no owner tag a reconcile interval after a pass first saw it, whose user has no
   * running workspace workflow (the embedded Temporal lost it mid-allocation, an operator terminated
   * it): nothing will tag, undo or tear it down, so the controller undoes it (the slot is recycled and
   * may rejoin the pool; the next pass clears its host's protection). A claim whose workflow runs is
   * asked about again an interval later.
   */
  private void dropDeadClaims(PassView v) {
    if (v.claimsWithoutOwner().isEmpty() || Workflow.getVersion(DEAD_CLAIMS, Workflow.DEFAULT_VERSION, 1) < 1) {
      claimSeenSince.clear();
      return;
    }
    Set<String> due = new HashSet<>(dueAfterAnInterval(claimSeenSince,
        v.claimsWithoutOwner().stream().map(ClaimedSlot::requestId).toList()));
    if (due.isEmpty()) {
      return;
    }
    List<String> dead = claims.deadClaims(
        v.claimsWithoutOwner().stream().filter(c -> due.contains(c.requestId())).toList());
    dead.forEach(requestId -> store.unclaim(requestId, false));
    if (!dead.isEmpty()) {
      decide(v.desired(), v.desired(), "drop-dead-claims", dead.size() + " claim(s) without a running workflow undone");
    }
  }

  /**
   * An owned host the group may scale in, whatever left it so (a race this controller once had,
   * an operator's hand on the group): protected again. Histories from before the field carry no
   * such hosts, so they replay without the version marker.
   */
  private void protectOwned(PassView v) {
    if (v.unprotectedOwned().isEmpty() || Workflow.getVersion(PROTECT_OWNED, Workflow.DEFAULT_VERSION, 1) < 1) {
      unprotectedSince.clear();
      return;
    }
    // A saga tags and protects side by side: its own protect step gets an interval to land.
    List<String> due = dueAfterAnInterval(unprotectedSince, v.unprotectedOwned());
    due.forEach(hostId -> fleet.protectHost(FleetActivities.HOST_WIDE, hostId));
    if (!due.isEmpty()) {
      decide(v.desired(), v.desired(), "protect-owned",
          due.size() + " owned host(s) were not protected, " + due.get(0) + " first");
    }
  }

  /**
   * The keys passes have listed for a reconcile interval, in {@code listed} order. {@code since}
   * keeps when each listed key was first seen, or last came due (so it comes due again an interval
   * later); a key a pass no longer lists is forgotten.
   */
  private List<String> dueAfterAnInterval(Map<String, Long> since, List<String> listed) {
    long now = Workflow.currentTimeMillis();
    since.keySet().retainAll(new HashSet<>(listed));
    List<String> due = new ArrayList<>();
    for (String key : listed) {
      if (now - since.computeIfAbsent(key, k -> now) >= params.reconcileInterval().toMillis()) {
        due.add(key);
        since.put(key, now);
      }
    }
    return due;
  }

  /**
   * {@code stillOwned} re-reads the fleet before recycling: the pre-{@code compact-pass} path
   * describes the whole fleet, the current one asks for the one slot (histories replay either).
   */
  private void recoverOwner(int desired, SlotStatus s, java.util.function.BooleanSupplier stillOwned) {
    String owner = s.owner();
    Promise<Void> resync = Async.procedure(
        () -> Workflow.newUntypedExternalWorkflowStub(WorkspaceWorkflow.idFor(owner)).signal("resync"));
    try {
      resync.get();
    } catch (RuntimeException noLiveWorkflow) {
      if (!stillOwned.getAsBoolean()) {
        return; // a teardown finished since the view: not an orphan
      }
      recycleOrphan(desired, s, " had no live workspace");
    }
  }

  /** The slot still carries the owner tag the pass view saw (one slot asked, not the whole fleet). */
  private boolean stillTagged(SlotStatus s) {
    return s.owner().equals(fleet.ownerOf(s.slot()));
  }

  /** Gives an orphan's slot back: a fresh process, no owner tag, no protection of its own, no claim. */
  private void recycleOrphan(int desired, SlotStatus s, String why) {
    fleet.recycleSlot(s.slot());
    fleet.untagOwner("orphan", s.slot(), s.owner());
    fleet.unprotectHost("orphan", s.slot());
    if (Workflow.getVersion(ORPHAN_CLAIMS, Workflow.DEFAULT_VERSION, 1) >= 1) {
      store.forgetClaimOf(s.slot().slotId());
    }
    decide(desired, desired, "recycle-orphan", s.slot().slotId() + why);
  }

  /**
   * A slot tagged with a user whose session names another slot was left behind by a run that is
   * gone (lost with the embedded Temporal mid-allocation, and the user allocated again): the user's
   * live workflow answers the resync a stray gets, so the slot would stay owned for good. A run holds
   * one slot and a left-behind one is in no pool, so no live run can come to own it.
   */
  private void recoverLeftBehind(PassView v) {
    if (v.ownedElsewhere().isEmpty() || Workflow.getVersion(LEFT_BEHIND, Workflow.DEFAULT_VERSION, 1) < 1) {
      return;
    }
    for (SlotStatus s : v.ownedElsewhere()) {
      if (stillTagged(s)) {
        recycleOrphan(v.desired(), s, " was left behind: " + s.owner() + "'s workspace is on another slot");
      }
    }
  }

  private void quarantine(PassView v) {
    for (HostSlots h : v.quarantinedHosts()) {
      terminateBroken(v.desired(), h.hostId(), h.slots().stream().map(Slot::slotId).toList(), "slot quarantined");
    }
    if (!v.quarantineCleared().isEmpty()) {
      store.clearQuarantine(v.quarantineCleared());
    }
  }

  /** {@code sparesDelta}: spares added minus spares taken out; {@code notServingYet}: some probe failed. */
  private record Onboarding(int sparesDelta, boolean notServingYet) {}

  private Onboarding onboard(PassView v) {
    List<ProbeCandidate> candidates = v.probe();
    if (sparesProbeDue()) {
      sparesProbedAt = Workflow.currentTimeMillis();
      probeCursor = (probeCursor + PassView.MAX_PROBES) & Integer.MAX_VALUE;
    } else {
      candidates = candidates.stream().filter(c -> !c.spare()).toList();
    }
    if (candidates.isEmpty()) {
      return new Onboarding(0, false);
    }
    List<Promise<ProbeResult>> probes = candidates.stream()
        .map(c -> Async.function(probe::probeSlot, c.slot())).toList();
    List<Slot> ready = new ArrayList<>();
    List<Slot> failedSpares = new ArrayList<>();
    Map<String, ProbeCandidate> failedHosts = new LinkedHashMap<>();
    Set<String> passedHosts = new HashSet<>();
    for (int i = 0; i < candidates.size(); i++) {
      ProbeCandidate c = candidates.get(i);
      if (probeResult(probes.get(i)).ready()) {
        passedHosts.add(c.slot().hostId());
        if (!c.spare()) {
          ready.add(c.slot());
        }
      } else {
        failedHosts.putIfAbsent(c.slot().hostId(), c);
        if (c.spare()) {
          failedSpares.add(c.slot());
        }
        BerthCounters.count(Workflow.getMetricsScope(), Counter.PROBE_FAILURES, "pool");
      }
    }
    if (!ready.isEmpty()) {
      store.addSpares(params.template(), ready);
    }
    int taken = replaceFailedSpares(v.desired(), failedSpares);
    passedHosts.stream().filter(h -> !failedHosts.containsKey(h)).forEach(probeFailures::remove);
    for (ProbeCandidate c : failedHosts.values()) {
      String hostId = c.slot().hostId();
      int n = probeFailures.merge(hostId, new ProbeFailures(0, 0).next(Workflow.currentTimeMillis()),
          (old, fresh) -> old.next(Workflow.currentTimeMillis())).count();
      if (n >= params.probeAttempts() && !c.hostOwned()) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < c.hostSlots(); i++) {
          ids.add(Slot.idOf(hostId, i));
        }
        taken += terminateBroken(v.desired(), hostId, ids, "probe failed " + n + " times");
      }
    }
    return new Onboarding(ready.size() - taken, !failedHosts.isEmpty());
  }

  /** Whether this pass probes the pooled spares too (every pass before {@value #SPARE_PROBES_DUE}). */
  private boolean sparesProbeDue() {
    if (Workflow.getVersion(SPARE_PROBES_DUE, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
      return true;
    }
    return sparesProbedAt == 0
        || Workflow.currentTimeMillis() - sparesProbedAt >= params.reconcileInterval().toMillis();
  }

  /** Returns how many of the failed spares were still pooled (and are now recycled). */
  private int replaceFailedSpares(int desired, List<Slot> failed) {
    if (failed.isEmpty()) {
      return 0;
    }
    List<String> taken = store.removeSpares(params.template(), failed.stream().map(Slot::slotId).toList());
    for (Slot s : failed) {
      if (taken.contains(s.slotId())) {
        fleet.recycleSlot(s);
      }
    }
    decide(desired, desired, "replace-spares", taken.size() + " unresponsive spare(s) replaced");
    return taken.size();
  }

  /** Returns how many of the host's slots were still pooled. */
  private int terminateBroken(int desired, String hostId, List<String> slotIds, String why) {
    probeFailures.remove(hostId);
    List<String> taken = slotIds.isEmpty() ? List.of() : store.removeSpares(params.template(), slotIds);
    fleet.terminateHost(hostId, false);
    BerthCounters.count(Workflow.getMetricsScope(), Counter.HOSTS_QUARANTINED, null);
    decide(desired, desired, "quarantine", hostId + ": " + why);
    return taken.size();
  }

  /**
   * target = clamp(min, max, ceil((active + spares + waiting) / slotsPerHost)). While requests wait,
   * the step is what they need, {@code ceil(waiting / slotsPerHost)} (at least the ordinary step, at
   * most {@code scaleOutMaxStep}), and the cooldown does not hold it back: the target counts the
   * waiting, so repeated passes never launch past it. Returns the spares taken out by a scale-in.
   */
  private int size(PassView v) {
    long now = Workflow.currentTimeMillis();
    int waiting = waiters.size();
    int needed = v.activeSlots() + params.spares() + waiting;
    int target = clamp(ceilDiv(needed, params.slotsPerHost()));
    int desired = v.desired();
    if (target > desired) {
      wantedFewerSince = 0;
      boolean cooling = v.launching() && now - lastScaleOut < params.scaleOutCooldown().toMillis();
      if (waiting > 0 || !cooling) {
        int step = waiting > 0
            ? Math.min(params.waitingStep(), Math.max(params.scaleOutStep(), ceilDiv(waiting, params.slotsPerHost())))
            : params.scaleOutStep();
        int to = Math.min(target, desired + step);
        fleet.setDesiredCapacity(to);
        lastScaleOut = now;
        scaledOut = true;
        decide(desired, to, "scale-out", "need " + needed + " slots (" + v.activeSlots() + " active, "
            + params.spares() + " spares, " + waiting + " waiting)");
      }
    } else if (target < desired) {
      if (wantedFewerSince == 0) {
        wantedFewerSince = now;
      } else if (now - wantedFewerSince >= params.stableWindow().toMillis()) {
        return scaleIn(v, desired, target, needed);
      }
    } else {
      wantedFewerSince = 0;
    }
    return 0;
  }

  private int scaleIn(PassView v, int desired, int target, int needed) {
    int removed = 0;
    int sparesTaken = 0;
    for (HostSlots h : v.scaleIn()) {
      if (desired - removed <= target) {
        break;
      }
      List<String> ids = h.slots().stream().map(Slot::slotId).toList();
      List<String> taken = store.removeSpares(params.template(), ids);
      if (!taken.containsAll(ids)) {
        // A slot is claimed (maybe not tagged yet) or not onboarded: give the rest back, keep the host.
        store.addSpares(params.template(), h.slots().stream().filter(s -> taken.contains(s.slotId())).toList());
        continue;
      }
      sparesTaken += taken.size();
      fleet.terminateHost(h.hostId(), true);
      removed++;
    }
    if (removed > 0) {
      decide(desired, desired - removed, "scale-in", "need " + needed + " slots; " + removed + " empty host(s) removed");
    }
    wantedFewerSince = 0;
    return sparesTaken;
  }

  private static int ceilDiv(int n, int d) {
    return (n + d - 1) / d;
  }

  /** The first waiters, one per spare, in arrival order; they leave the queue when they cancel. */
  private void wakeWaiters(int spares) {
    waiters.keySet().stream().limit(Math.max(0, spares)).toList()
        .forEach(id -> signalWorkspace(id, "spareAvailable", null));
  }

  /** Nothing is launching, nothing is coming up, and the fleet is at its maximum. */
  private boolean canGrow(FleetSnapshot snapshot) {
    boolean launching = snapshot.hosts().stream().anyMatch(h -> "PENDING".equals(h.state()));
    return launching || snapshot.desired() < params.maxHosts();
  }

  private void denyWaiters(FleetSnapshot snapshot) {
    denyWaiters(snapshot.desired());
  }

  private void denyWaiters(int desired) {
    if (waiters.isEmpty()) {
      return;
    }
    String why = "at capacity: all " + params.maxHosts() + " host(s) are in use; try again later";
    waiters.keySet().forEach(id -> signalWorkspace(id, "noCapacity", why));
    decide(desired, desired, "at-capacity", waiters.size() + " request(s) turned away");
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
    CapacityStatus s = lastStatus;
    return new CapacityStatus(s.desired(), s.actual(), params.minHosts(), params.maxHosts(), params.slotsPerHost(),
        s.slotsUsed(), s.slotsFree(), s.sparesReady(), params.spares(), s.active(), waiters.size(), s.hosts(),
        List.copyOf(decisions));
  }

  private CapacityStatus statusOf(FleetSnapshot snapshot, int spares, int sessions) {
    List<SlotStatus> slots = snapshot.hosts().stream().flatMap(h -> h.slots().stream()).toList();
    int used = (int) slots.stream().filter(s -> s.owner() != null).count();
    int actual = (int) snapshot.hosts().stream().filter(Host::running).count();
    return new CapacityStatus(snapshot.desired(), actual, 0, 0, 0, used, slots.size() - used, spares, 0, sessions, 0,
        snapshot.hosts(), List.of());
  }
}
