package io.berth.workflows;

import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.capacity.CapacityAction;
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
import io.berth.workflows.capacity.CapacityPlanner;
import io.berth.workflows.capacity.CapacityPlanner.Plan;
import io.berth.workflows.capacity.CapacityPlanner.Probed;
import io.berth.workflows.capacity.CapacityPlanner.Repairs;
import io.berth.workflows.capacity.SpareTarget.Target;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassView.HostSlots;
import io.berth.workflows.model.PassView.ProbeCandidate;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * The fleet controller: a loop of passes, the signal handlers, and the executor of what
 * {@link CapacityPlanner} decides. A pass reads its view of the fleet and the pool, plans the
 * repairs and the probes, runs them, plans onboarding, sizing and the waiters on the probes'
 * answers, and runs that. Each action runs on its own: one that fails is logged and recorded as
 * a decision, and the rest of the pass goes on.
 *
 * <p>{@value #POOLS_CHANGE} (version 1, taken once at the start of a run): the spares follow the
 * template's rules ({@code SpareRules}: schedules, demand), the template's own host group is sized
 * ({@code setPoolCapacity}), misses are counted for the demand term, and the target and its rule
 * are recorded in the run's memo when they change. A run that began before it (DEFAULT_VERSION)
 * keeps a fixed spare count and sizes the one fleet ({@code setDesiredCapacity}).
 */
public class CapacityWorkflowImpl implements CapacityWorkflow {
  private static final Logger log = Workflow.getLogger(CapacityWorkflowImpl.class);
  /** The pass interval while requests wait for hosts that are launching or not serving yet. */
  private static final Duration WAITING_INTERVAL = Duration.ofSeconds(1);
  static final String POOLS_CHANGE = "template-pools";
  /** The memo keys the target and its rule are recorded under. */
  public static final String MEMO_TARGET = "sparesTarget";
  public static final String MEMO_RULE = "sparesRule";

  private final StoreActivities store = ActivityStubs.controlStore();
  private final FleetActivities fleet = ActivityStubs.controlFleet();
  private final ClaimActivities claims = ActivityStubs.controlClaims();
  private final ProbeActivities probe = ActivityStubs.probeOnce();

  private CapacityParams params;
  /** Replaced whole by the planner and the handlers; never changed in place. */
  private CapacityMemory memory = CapacityMemory.empty();
  private boolean poked;
  /** Version 1 of {@link #POOLS_CHANGE}: set at the start of {@link #run}. */
  private boolean pools;
  /** The target of the last plan; null before the first. */
  private Target target;
  /** The target's key last written to the memo in this run; null: none yet. */
  private String memoTarget;
  private CapacityStatus lastStatus = new CapacityStatus(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of(), List.of());

  @Override
  public void run(CapacityParams initial) {
    pools = Workflow.getVersion(POOLS_CHANGE, Workflow.DEFAULT_VERSION, 1) == 1;
    params = initial.withMemory(null);
    memory = initial.memory() == null ? CapacityMemory.empty() : initial.memory();
    for (int i = 0; i < params.iterationsBeforeContinueAsNew(); i++) {
      poked = false;
      try {
        pass();
      } catch (ActivityFailure e) {
        log.warn("no view of the fleet, retrying next pass: {}", e.getMessage());
      }
      Workflow.await(nextPassIn(), () -> poked);
    }
    Workflow.await(Workflow::isEveryHandlerFinished);
    Workflow.continueAsNew(params.withMemory(memory));
  }

  private Duration nextPassIn() {
    boolean waitingForHosts = memory.comingUp() && !memory.waiters().isEmpty();
    if (waitingForHosts && WAITING_INTERVAL.compareTo(params.reconcileInterval()) < 0) {
      return WAITING_INTERVAL;
    }
    return params.reconcileInterval();
  }

  private void pass() {
    PassView view = store.passView(params.template(), memory.probeCursor());
    // The memory is taken over before the actions run: the handlers change the waiters meanwhile.
    CapacityParams settings = pools ? params : params.withRules(null);
    Repairs repairs = CapacityPlanner.repairs(view, memory, settings, Workflow.currentTimeMillis());
    memory = repairs.memory();
    execute(view, repairs.actions());
    List<Probed> probed = probe(repairs.probes());
    Plan plan = CapacityPlanner.capacity(view, probed, memory, settings, Workflow.currentTimeMillis());
    memory = plan.memory();
    target = plan.target();
    if (pools) {
      recordTarget(plan.target());
    }
    execute(view, plan.actions());
    lastStatus = new CapacityStatus(view.desired(), view.runningHosts(), 0, 0, 0, view.activeSlots(),
        view.slots() - view.activeSlots(), plan.spares(), 0, view.sessions(), 0, view.hosts(), List.of());
  }

  /**
   * The target and its rule, in the run's memo (a command in its history, visible in a describe)
   * when they changed: at the first pass of a run, then each time the rule or the count changes.
   */
  private void recordTarget(Target t) {
    if (t.key().equals(memoTarget)) {
      return;
    }
    memoTarget = t.key();
    Map<String, Object> memo = new TreeMap<>(); // in key order: the command does not depend on hashing
    memo.put(MEMO_RULE, t.rule());
    memo.put(MEMO_TARGET, t.spares());
    Workflow.upsertMemo(memo);
  }

  /** All candidates in parallel; a probe activity that failed counts as a failed probe. */
  private List<Probed> probe(List<ProbeCandidate> candidates) {
    List<Promise<ProbeResult>> answers = candidates.stream()
        .map(c -> Async.function(probe::probeSlot, c.slot())).toList();
    List<Probed> probed = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      boolean ready = readyOf(answers.get(i));
      if (!ready) {
        BerthCounters.count(Workflow.getMetricsScope(), Counter.PROBE_FAILURES, "pool");
      }
      probed.add(new Probed(candidates.get(i), ready));
    }
    return probed;
  }

  private static boolean readyOf(Promise<ProbeResult> answer) {
    try {
      return answer.get().ready();
    } catch (ActivityFailure e) {
      return false;
    }
  }

  // ---- the executor ----------------------------------------------------------------------------

  private void execute(PassView view, List<CapacityAction> actions) {
    for (CapacityAction a : actions) {
      attempt(view, a.describe(), () -> run(view, a));
    }
  }

  /** Runs one step; a failure is logged and recorded, and does not reach the caller. */
  private void attempt(PassView view, String what, Runnable step) {
    try {
      step.run();
    } catch (TemporalFailure e) {
      log.warn("{} failed: {}", what, e.getMessage());
      decide(view, "failed", what + ": " + rootMessage(e));
    }
  }

  private void run(PassView view, CapacityAction a) {
    String template = params.template();
    if (a instanceof DropSpares x) {
      store.removeSpares(template, x.slotIds());
    } else if (a instanceof Recycle x) {
      fleet.recycleSlot(x.slot());
    } else if (a instanceof ResyncOwner x) {
      resyncOwner(view, x.slot());
    } else if (a instanceof Unprotect x) {
      fleet.unprotectHost(FleetActivities.HOST_WIDE, x.firstSlot());
    } else if (a instanceof GiveBackLeftBehind x) {
      giveBackLeftBehind(view, x.slot());
    } else if (a instanceof Protect x) {
      fleet.protectHost(FleetActivities.HOST_WIDE, x.hostId());
    } else if (a instanceof UndoDeadClaims x) {
      undoDeadClaims(view, x);
    } else if (a instanceof Quarantine x) {
      quarantine(x);
    } else if (a instanceof ClearQuarantine x) {
      store.clearQuarantine(x.slotIds());
    } else if (a instanceof AddSpares x) {
      store.addSpares(template, x.slots());
    } else if (a instanceof ReplaceSpares x) {
      replaceSpares(view, x);
    } else if (a instanceof ScaleOut x) {
      scaleTo(x.to());
    } else if (a instanceof ScaleIn x) {
      scaleIn(view, x);
    } else if (a instanceof WakeWaiters x) {
      x.workflowIds().forEach(id -> Async.procedure(workspace(id)::spareAvailable));
    } else if (a instanceof DenyWaiters x) {
      x.workflowIds().forEach(id -> Async.procedure(workspace(id)::noCapacity, x.reason()));
    } else {
      throw new IllegalStateException("no executor for " + a.describe());
    }
  }

  /** The template's own host group; a run from before pools per template sizes the one fleet. */
  private void scaleTo(int hosts) {
    if (pools) {
      fleet.setPoolCapacity(params.template(), hosts);
    } else {
      fleet.setDesiredCapacity(hosts);
    }
  }

  /** Only a workflow that does not run fails the signal, and then only its promise. */
  private static WorkspaceWorkflow workspace(String workflowId) {
    return Workflow.newExternalWorkflowStub(WorkspaceWorkflow.class, workflowId);
  }

  private void resyncOwner(PassView view, SlotStatus s) {
    try {
      Async.procedure(workspace(WorkspaceWorkflow.idFor(s.owner()))::resync).get();
    } catch (TemporalFailure noLiveWorkflow) { // the server answers NOT_FOUND
      if (stillTagged(s)) { // else a teardown finished since the view: not an orphan
        giveBack(view, s, " had no live workspace");
      }
    }
  }

  /** A run holds one slot and a left-behind one is in no pool, so no live run can come to own it. */
  private void giveBackLeftBehind(PassView view, SlotStatus s) {
    if (stillTagged(s)) {
      giveBack(view, s, " was left behind: " + s.owner() + "'s workspace is on another slot");
    }
  }

  /** The slot still carries the owner tag the pass view saw (one slot asked, not the whole fleet). */
  private boolean stillTagged(SlotStatus s) {
    return s.owner().equals(fleet.ownerOf(s.slot()));
  }

  /** An orphan's slot back: a fresh process, no owner tag, no protection of its own, no claim. */
  private void giveBack(PassView view, SlotStatus s, String why) {
    fleet.recycleSlot(s.slot());
    fleet.untagOwner("orphan", s.slot(), s.owner());
    fleet.unprotectHost("orphan", s.slot());
    store.forgetClaimOf(s.slot().slotId());
    decide(view, "recycle-orphan", s.slot().slotId() + why);
  }

  /**
   * Temporal is asked when the action runs (a describe and a query, which change nothing); a dead
   * claim is undone (the slot is recycled and may rejoin the pool; the next pass clears its host's
   * protection).
   */
  private void undoDeadClaims(PassView view, UndoDeadClaims x) {
    List<String> dead = claims.deadClaims(x.claims());
    dead.forEach(requestId -> attempt(view, "unclaim " + requestId, () -> store.unclaim(requestId, false)));
    if (!dead.isEmpty()) {
      decide(view, "drop-dead-claims", dead.size() + " claim(s) without a running workflow undone");
    }
  }

  private void quarantine(Quarantine x) {
    if (!x.slotIds().isEmpty()) {
      store.removeSpares(params.template(), x.slotIds());
    }
    fleet.terminateHost(x.hostId(), false);
    BerthCounters.count(Workflow.getMetricsScope(), Counter.HOSTS_QUARANTINED, null);
  }

  /** Only the spares still pooled are recycled: one missing from the answer was claimed meanwhile. */
  private void replaceSpares(PassView view, ReplaceSpares x) {
    List<String> taken = store.removeSpares(params.template(), x.slots().stream().map(Slot::slotId).toList());
    x.slots().stream().filter(s -> taken.contains(s.slotId()))
        .forEach(s -> attempt(view, "recycle " + s.slotId(), () -> fleet.recycleSlot(s)));
    if (!taken.isEmpty()) {
      decide(view, "replace-spares", taken.size() + " unresponsive spare(s) replaced");
    }
  }

  private void scaleIn(PassView view, ScaleIn x) {
    List<String> retired = new ArrayList<>();
    for (HostSlots h : x.candidates()) {
      if (x.from() - retired.size() <= x.to()) {
        break;
      }
      attempt(view, "scale in " + h.hostId(), () -> retire(h, retired));
    }
    if (!retired.isEmpty()) {
      decide(x.from(), x.from() - retired.size(), "scale-in",
          x.why() + "; " + retired.size() + " empty host(s) removed");
    }
  }

  /** Terminates the host with decrement if all its slots were still pooled; else gives them back. */
  private void retire(HostSlots h, List<String> retired) {
    List<String> ids = h.slots().stream().map(Slot::slotId).toList();
    List<String> taken = store.removeSpares(params.template(), ids);
    if (!taken.containsAll(ids)) {
      // A slot is claimed (maybe not tagged yet) or not onboarded: the rest go back, the host stays.
      store.addSpares(params.template(), h.slots().stream().filter(s -> taken.contains(s.slotId())).toList());
      return;
    }
    fleet.terminateHost(h.hostId(), true);
    retired.add(h.hostId());
  }

  private void decide(PassView view, String action, String why) {
    decide(view.desired(), view.desired(), action, why);
  }

  private void decide(int from, int to, String action, String why) {
    memory = memory.withDecision(new ScalingDecision(Workflow.currentTimeMillis(), from, to, action, why));
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  // ---- handlers --------------------------------------------------------------------------------

  @Override
  public void poke(String reason) {
    poked = true;
  }

  @Override
  public void needCapacity(CapacityRequest request) {
    boolean miss = !memory.isWaiting(request.workflowId());
    poked |= miss;
    if (miss && pools && params.spareRules().demand() != null) {
      memory = memory.withMiss(Workflow.currentTimeMillis());
    }
    memory = memory.withWaiter(request);
  }

  @Override
  public void cancelNeed(String workspaceWorkflowId) {
    memory = memory.withoutWaiter(workspaceWorkflowId);
  }

  @Override
  public void reconfigure(CapacityParams next) {
    params = next.withMemory(null);
    poked = true;
  }

  @Override
  public CapacityStatus status() {
    CapacityStatus s = lastStatus;
    int spares = target == null ? params.spares() : target.spares();
    return new CapacityStatus(s.desired(), s.actual(), params.minHosts(), params.maxHosts(), params.slotsPerHost(),
        s.slotsUsed(), s.slotsFree(), s.sparesReady(), spares, s.active(), memory.waiters().size(),
        s.hosts(), memory.decisions(), params.template(), target == null ? null : target.rule());
  }
}
