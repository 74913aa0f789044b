package io.berth.workflows.capacity;

import io.berth.workflows.capacity.CapacityAction.AddSpares;
import io.berth.workflows.capacity.CapacityAction.ClearQuarantine;
import io.berth.workflows.capacity.CapacityAction.DenyWaiters;
import io.berth.workflows.capacity.CapacityAction.DropSpares;
import io.berth.workflows.capacity.CapacityAction.GiveBackLeftBehind;
import io.berth.workflows.capacity.CapacityAction.Protect;
import io.berth.workflows.capacity.CapacityAction.Quarantine;
import io.berth.workflows.capacity.CapacityAction.Recycle;
import io.berth.workflows.capacity.CapacityAction.ReplaceSpares;
import io.berth.workflows.capacity.CapacityAction.ResyncOwner;
import io.berth.workflows.capacity.CapacityAction.ScaleIn;
import io.berth.workflows.capacity.CapacityAction.ScaleOut;
import io.berth.workflows.capacity.CapacityAction.UndoDeadClaims;
import io.berth.workflows.capacity.CapacityAction.Unprotect;
import io.berth.workflows.capacity.CapacityAction.WakeWaiters;
import io.berth.workflows.capacity.SpareTarget.Target;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityMemory.ProbeFailures;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.DemandLog;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassView.HostSlots;
import io.berth.workflows.model.PassView.ProbeCandidate;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The capacity controller's decisions, as pure functions of one pass's view of the fleet and the
 * pool ({@link PassView}), the controller's memory, its settings and the time: no Temporal call, no
 * I/O. A pass plans twice, around the probes it asks for (their answers decide the rest):
 * <ol>
 *   <li>{@link #repairs}: dead spares dropped and recycled, owner tags the read model does not know
 *       (resync the owner, or give the slot back), protection nobody holds cleared, owned hosts
 *       protected again, claims long without an owner asked about, quarantined hosts terminated; and
 *       which slots to probe (every newcomer; pooled spares when an interval has passed since they
 *       were last probed).</li>
 *   <li>{@link #capacity}: newcomers that passed join the pool, spares that failed are replaced,
 *       hosts failing too many probes are quarantined, the fleet is sized, waiters woken or turned
 *       away.</li>
 * </ol>
 * Decisions worth showing an operator are recorded in the returned memory; the workflow records
 * those that depend on an activity's answer (how many spares were still pooled, which claims were
 * dead, whether an orphan was one).
 */
public final class CapacityPlanner {
  private CapacityPlanner() {}

  /** A probe's answer for one candidate. */
  public record Probed(ProbeCandidate candidate, boolean ready) {}

  /** The first phase's actions, the slots to probe after them, and the memory to keep. */
  public record Repairs(List<CapacityAction> actions, List<ProbeCandidate> probes, CapacityMemory memory) {}

  /**
   * The second phase's actions and the memory to keep. {@code spares}: the pool once the actions
   * ran, as planned (a slot claimed since the view still counts as the pass saw it). {@code target}:
   * the spares the pass sized the fleet for, and the rule that set it ({@link SpareTarget}).
   */
  public record Plan(List<CapacityAction> actions, CapacityMemory memory, int spares, Target target) {}

  public static Repairs repairs(PassView view, CapacityMemory memory, CapacityParams settings, long now) {
    Draft d = new Draft(view, memory, settings, now);
    d.dropDeadSpares();
    view.strayOwners().forEach(s -> d.actions.add(new ResyncOwner(s)));
    view.unprotect().forEach(s -> d.actions.add(new Unprotect(s)));
    view.leftBehind().forEach(s -> d.actions.add(new GiveBackLeftBehind(s)));
    d.protectOwned();
    d.askAboutClaims();
    d.quarantine();
    List<ProbeCandidate> probes = d.probes();
    return new Repairs(List.copyOf(d.actions), probes, d.memory());
  }

  public static Plan capacity(PassView view, List<Probed> probed, CapacityMemory memory, CapacityParams settings,
      long now) {
    Draft d = new Draft(view, memory, settings, now);
    int spares = view.spares() + d.onboard(probed);
    d.target();
    spares -= d.size();
    d.comingUp = d.scaledOut || d.notServingYet || view.launching() || view.desired() > view.runningHosts();
    d.answerWaiters(spares);
    return new Plan(List.copyOf(d.actions), d.memory(), spares, d.target);
  }

  /** One phase's working copy of the memory, and the actions planned so far. */
  private static final class Draft {
    private final PassView view;
    private final CapacityParams settings;
    private final long now;
    private final List<CapacityAction> actions = new ArrayList<>();
    private long lastScaleOut;
    private long wantedFewerSince;
    private final Map<String, ProbeFailures> probeFailures;
    private final Map<String, Long> claimsSeenSince;
    private final Map<String, Long> unprotectedSince;
    private int probeCursor;
    private long sparesProbedAt;
    private boolean comingUp;
    private boolean notServingYet;
    private boolean scaledOut;
    private List<CapacityRequest> waiters;
    private DemandLog demand;
    private String targetRule;
    private Target target;
    private CapacityMemory decided;

    Draft(PassView view, CapacityMemory m, CapacityParams settings, long now) {
      this.view = view;
      this.settings = settings;
      this.now = now;
      lastScaleOut = m.lastScaleOutMillis();
      wantedFewerSince = m.wantedFewerSinceMillis();
      probeFailures = new HashMap<>(m.probeFailures());
      claimsSeenSince = new HashMap<>(m.claimsSeenSince());
      unprotectedSince = new HashMap<>(m.unprotectedSince());
      probeCursor = m.probeCursor();
      sparesProbedAt = m.sparesProbedAtMillis();
      comingUp = m.comingUp();
      waiters = m.waiters();
      demand = m.demand();
      targetRule = m.targetRule();
      decided = m;
    }

    CapacityMemory memory() {
      return new CapacityMemory(lastScaleOut, wantedFewerSince, probeFailures, claimsSeenSince, unprotectedSince,
          probeCursor, sparesProbedAt, comingUp, waiters, decided.decisions(), demand, targetRule);
    }

    void decide(int from, int to, String action, String why) {
      decided = decided.withDecision(new ScalingDecision(now, from, to, action, why));
    }

    void decide(String action, String why) {
      decide(view.desired(), view.desired(), action, why);
    }

    /** Spares whose process died or whose host is gone leave the pool; live hosts give them a fresh process. */
    void dropDeadSpares() {
      List<String> ids = new ArrayList<>(view.goneSpares());
      view.deadSpares().forEach(s -> ids.add(s.slotId()));
      if (ids.isEmpty()) {
        return;
      }
      actions.add(new DropSpares(ids));
      view.deadSpares().forEach(s -> actions.add(new Recycle(s)));
      decide("replace-spares", ids.size() + " dead spare(s) replaced");
    }

    /** A saga tags and protects side by side: its own protect step gets an interval to land. */
    void protectOwned() {
      List<String> due = dueAfterAnInterval(unprotectedSince, view.unprotected());
      due.forEach(hostId -> actions.add(new Protect(hostId)));
      if (!due.isEmpty()) {
        decide("protect-owned", due.size() + " owned host(s) were not protected, " + due.get(0) + " first");
      }
    }

    /** A claim gets an interval to be tagged before its workflow is asked about. */
    void askAboutClaims() {
      List<ClaimedSlot> listed = view.claims();
      Set<String> due = new HashSet<>(dueAfterAnInterval(claimsSeenSince,
          listed.stream().map(ClaimedSlot::requestId).toList()));
      if (!due.isEmpty()) {
        actions.add(new UndoDeadClaims(listed.stream().filter(c -> due.contains(c.requestId())).toList()));
      }
    }

    /** Quarantined slots take their ownerless host down (without decrement: the fleet launches a replacement). */
    void quarantine() {
      for (HostSlots h : view.quarantinedHosts()) {
        quarantine(h.hostId(), h.slots().stream().map(Slot::slotId).toList(), "slot quarantined");
      }
      if (!view.quarantineCleared().isEmpty()) {
        actions.add(new ClearQuarantine(view.quarantineCleared()));
      }
    }

    void quarantine(String hostId, List<String> slotIds, String why) {
      probeFailures.remove(hostId);
      actions.add(new Quarantine(hostId, slotIds));
      decide("quarantine", hostId + ": " + why);
    }

    /**
     * Every newcomer at every pass; pooled spares only when the last pass that probed them is an
     * interval old (pokes bring passes many times a second under a burst), from the cursor on.
     */
    List<ProbeCandidate> probes() {
      boolean sparesDue = sparesProbedAt == 0 || now - sparesProbedAt >= settings.reconcileInterval().toMillis();
      if (!sparesDue) {
        return view.probe().stream().filter(c -> !c.spare()).toList();
      }
      sparesProbedAt = now;
      probeCursor = (probeCursor + PassView.MAX_PROBES) & Integer.MAX_VALUE;
      return view.probe();
    }

    /**
     * Newcomers that passed join the pool; spares that failed are replaced; a host failing
     * {@code probeAttempts} counted probe passes in a row is quarantined unless a slot of it has an
     * owner. Returns the change to the pool's size.
     */
    int onboard(List<Probed> probed) {
      List<Slot> ready = new ArrayList<>();
      List<Slot> failedSpares = new ArrayList<>();
      Map<String, ProbeCandidate> failedHosts = new LinkedHashMap<>();
      Map<String, Integer> pooledOnHost = new HashMap<>();
      for (Probed p : probed) {
        ProbeCandidate c = p.candidate();
        String hostId = c.slot().hostId();
        if (p.ready()) {
          pooledOnHost.merge(hostId, 1, Integer::sum);
          if (!c.spare()) {
            ready.add(c.slot());
          }
        } else {
          failedHosts.putIfAbsent(hostId, c);
          if (c.spare()) {
            failedSpares.add(c.slot());
          }
        }
      }
      if (!ready.isEmpty()) {
        actions.add(new AddSpares(ready));
      }
      if (!failedSpares.isEmpty()) {
        actions.add(new ReplaceSpares(failedSpares));
      }
      int delta = ready.size() - failedSpares.size();
      pooledOnHost.keySet().stream().filter(h -> !failedHosts.containsKey(h)).forEach(probeFailures::remove);
      for (ProbeCandidate c : failedHosts.values()) {
        String hostId = c.slot().hostId();
        int n = probeFailures.merge(hostId, new ProbeFailures(0, 0).next(now), (old, fresh) -> old.next(now)).count();
        if (n >= settings.probeAttempts() && !c.hostOwned()) {
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < c.hostSlots(); i++) {
            ids.add(Slot.idOf(hostId, i));
          }
          quarantine(hostId, ids, "probe failed " + n + " times");
          delta -= pooledOnHost.getOrDefault(hostId, 0);
        }
      }
      // Slots that did not answer yet may still come up (a fresh process, a booting host).
      notServingYet = !failedHosts.isEmpty();
      return delta;
    }

    /**
     * The spares this pass keeps ({@link SpareTarget}). With a demand rule the pass's claim total is
     * sampled first, so the claims since the last pass count now. A controller with rules records a
     * {@code target} decision when the target or its rule changes.
     */
    void target() {
      if (settings.spareRules().demand() != null) {
        demand = DemandLog.of(demand).withClaimsTotal(now, view.claimsTotal());
      }
      target = SpareTarget.of(settings.spareRules(), demand, now);
      if (settings.rules() != null && !target.key().equals(targetRule)) {
        targetRule = target.key();
        decide("target", target.rule());
      }
    }

    /** What a sizing decision says the spares are: with rules, the rule that set them. */
    private String sparesText() {
      return settings.rules() == null ? target.spares() + " spares" : target.spares() + " spares by " + target.rule();
    }

    /**
     * hosts = clamp(min, max, ceil((active + spares + waiting) / slotsPerHost)). While requests
     * wait, the step is what they need, {@code ceil(waiting / slotsPerHost)} (at least the ordinary
     * step, at most {@code scaleOutMaxStep}), and the cooldown does not hold it back: the target
     * counts the waiting, so repeated passes never launch past it. Scale-in only after the target
     * stayed lower for the stable window. Returns the spares a scale-in takes out of the pool.
     */
    int size() {
      int waiting = waiters.size();
      int needed = view.activeSlots() + target.spares() + waiting;
      int hosts = clamp(ceilDiv(needed, settings.slotsPerHost()));
      int desired = view.desired();
      if (hosts > desired) {
        wantedFewerSince = 0;
        boolean cooling = view.launching() && now - lastScaleOut < settings.scaleOutCooldown().toMillis();
        if (waiting > 0 || !cooling) {
          int step = waiting > 0
              ? Math.min(settings.waitingStep(), Math.max(settings.scaleOutStep(), ceilDiv(waiting, settings.slotsPerHost())))
              : settings.scaleOutStep();
          int to = Math.min(hosts, desired + step);
          actions.add(new ScaleOut(desired, to));
          lastScaleOut = now;
          scaledOut = true;
          decide(desired, to, "scale-out", "need " + needed + " slots (" + view.activeSlots() + " active, "
              + sparesText() + ", " + waiting + " waiting)");
        }
        return 0;
      }
      if (hosts == desired) {
        wantedFewerSince = 0;
        return 0;
      }
      if (wantedFewerSince == 0) {
        wantedFewerSince = now;
        return 0;
      }
      if (now - wantedFewerSince < settings.stableWindow().toMillis()) {
        return 0;
      }
      wantedFewerSince = 0;
      String why = settings.rules() == null ? "need " + needed + " slots"
          : "need " + needed + " slots (" + view.activeSlots() + " active, " + sparesText() + ")";
      actions.add(new ScaleIn(desired, hosts, view.scaleIn(), why));
      // The candidates the executor terminates first, if their slots are all still pooled.
      return view.scaleIn().stream().limit(desired - hosts).mapToInt(h -> h.slots().size()).sum();
    }

    /**
     * The first waiters, one per spare, are woken; when nothing is launching or coming up, the fleet
     * is at its maximum and no queue is kept, they are all turned away.
     */
    void answerWaiters(int spares) {
      List<String> ids = waiters.stream().map(CapacityRequest::workflowId).toList();
      if (spares > 0 && !ids.isEmpty()) {
        actions.add(new WakeWaiters(ids.subList(0, Math.min(spares, ids.size()))));
      }
      boolean full = spares <= 0 && !notServingYet && !view.launching() && view.desired() >= settings.maxHosts();
      if (!settings.queue() && full && !ids.isEmpty()) {
        String why = "at capacity: all " + settings.maxHosts() + " host(s) are in use; try again later";
        actions.add(new DenyWaiters(ids, why));
        decide("at-capacity", ids.size() + " request(s) turned away");
        waiters = List.of();
      }
    }

    /**
     * The keys passes have listed for a reconcile interval, in {@code listed} order. {@code since}
     * keeps when each listed key was first seen, or last came due (so it comes due again an
     * interval later); a key a pass no longer lists is forgotten.
     */
    private List<String> dueAfterAnInterval(Map<String, Long> since, List<String> listed) {
      since.keySet().retainAll(new HashSet<>(listed));
      List<String> due = new ArrayList<>();
      for (String key : listed) {
        if (now - since.computeIfAbsent(key, k -> now) >= settings.reconcileInterval().toMillis()) {
          due.add(key);
          since.put(key, now);
        }
      }
      return due;
    }

    private int clamp(int n) {
      return Math.max(settings.minHosts(), Math.min(settings.maxHosts(), n));
    }

    private static int ceilDiv(int n, int d) {
      return (n + d - 1) / d;
    }
  }
}
