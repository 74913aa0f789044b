package io.berth.workflows;

import static io.berth.workflows.StagedSaga.inline;
import static io.berth.workflows.StagedSaga.step;

import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.StagedSaga.Step;
import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.RouteActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.ActiveWorkspace;
import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.DnsRecord;
import io.berth.workflows.model.Placement;
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.berth.workflows.model.RouteSpec;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.common.SearchAttributeUpdate;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

/**
 * One user's workspace: the allocation saga ({@link #allocationSaga}), the active loop that keeps
 * it while it is used and reclaims it when idle, and the teardown.
 *
 * <p>Changes to this class after 1.0 are versioned ({@code Workflow.getVersion}) and replay-tested
 * against the histories recorded in {@code ReplayTest} (docs/ARCHITECTURE.md, "Changing workflow code").
 */
public class WorkspaceWorkflowImpl implements WorkspaceWorkflow {
  /** Continue-as-new well before Temporal's 10,240-event warning. */
  static final int HISTORY_LIMIT = 4_000;
  /**
   * A {@link #beat} stamped further ahead of the workflow's clock than this is ignored: clocks of
   * the API and the worker may differ a little, but a beat from the future must not buy idle time.
   */
  static final long MAX_BEAT_SKEW_MILLIS = 5_000;
  static final Duration RESYNC_RETRY = Duration.ofSeconds(5);
  /**
   * Version 1: the run signals and pokes its own template's controller ({@code params.capacityId()});
   * a run that began before (DEFAULT_VERSION) signals {@link CapacityWorkflow#ID}.
   */
  static final String POOLS_CHANGE = "template-pools";
  private static final Logger log = Workflow.getLogger(WorkspaceWorkflowImpl.class);

  private final WorkspaceParams params;
  private final List<ProgressStep> steps = new ArrayList<>();
  /** Undos, the teardown and resyncs: regular activities, retried apart from any workflow task. */
  private final StoreActivities store = ActivityStubs.store(false);
  private final FleetActivities fleet = ActivityStubs.fleet(false);
  private final DnsActivities dns = ActivityStubs.dns(false);
  private final RouteActivities routes = ActivityStubs.routes(false);

  private WorkspaceState state = WorkspaceState.ALLOCATING;
  private String requestId;
  private String workspaceId;
  private Slot slot;
  private long allocatedAt;
  /** Set when the workspace becomes READY (or resumes); null while allocating. */
  private IdleDeadline deadline;
  private String reason;
  private String releaseReason;
  private boolean slotBroken;
  private boolean spareSignal;
  /** The claim waited for capacity (PROVISIONING). */
  private boolean coldStart;
  private String noCapacityReason;
  private boolean resyncWanted;
  /** When a failed resync is tried again (workflow clock), or 0. */
  private long resyncRetryAt;
  /** Reclaims are armed on the worker; false once an armed call failed for good (the idle timer then). */
  private boolean armed = true;
  /** Version 1 of {@link #POOLS_CHANGE}: set at the start of {@link #run}. */
  private boolean pools;

  @WorkflowInit
  public WorkspaceWorkflowImpl(WorkspaceParams params) {
    this.params = params;
    ActiveWorkspace resume = params.resume();
    if (resume != null) {
      requestId = resume.requestId();
      workspaceId = resume.workspaceId();
      slot = resume.slot();
      allocatedAt = resume.allocatedAtMillis();
      deadline = new IdleDeadline(resume.idleDeadlineMillis(), idleMillis(), resume.expiresAtMillis());
      state = WorkspaceState.READY;
    }
  }

  @Override
  public WorkspaceView run(WorkspaceParams ignored) {
    pools = Workflow.getVersion(POOLS_CHANGE, Workflow.DEFAULT_VERSION, 1) == 1;
    setState(state);
    if (params.resume() == null && !allocate()) {
      pokeCapacity("allocation failed");
      return view();
    }
    activeLoop();
    Workflow.newDetachedCancellationScope(this::teardown).run();
    return view();
  }

  // ---- allocation saga ----------------------------------------------------------------------

  /**
   * The allocation, in order: claim a slot; place the workspace on it (five steps that need only the
   * slot, not one another, so they start together); store the session. Each undo is registered
   * right before its step starts; a failed probe marks the slot broken, and the claim's undo then
   * quarantines it instead of giving it back.
   */
  List<List<Step>> allocationSaga(PlacementStubs at) { // package-private: ReplayTest reorders it once
    return List.of(
        List.of(step("claim", params::template, inline(() -> slot = claimSlot()),
            () -> store.unclaim(requestId, slotBroken))),
        List.of(
            step("probe", () -> slot.slotId(), () -> markBrokenOnFailure(Async.procedure(at.probe::awaitReady, slot)),
                null),
            step("tag", () -> slot.hostId(), () -> Async.procedure(at.fleet::tagOwner, requestId, slot, params.user()),
                () -> fleet.untagOwner(requestId, slot, params.user())),
            step("protect", () -> slot.hostId(), () -> Async.procedure(at.fleet::protectHost, requestId, slot.hostId()),
                () -> fleet.unprotectHost(requestId, slot)),
            step("dns", params::hostname, () -> Async.procedure(at.dns::upsertRecord, dnsRecord()),
                () -> dns.deleteRecord(dnsRecord())),
            step("route", params::hostname, () -> Async.procedure(at.routes::routeWorkspace, route()),
                () -> routes.unrouteWorkspace(route()))),
        List.of(step("session", () -> null, inline(this::storeSession),
            () -> store.deleteSession(params.user(), workspaceId))));
  }

  private boolean allocate() {
    requestId = Workflow.randomUUID().toString();
    workspaceId = Workflow.randomUUID().toString();
    StagedSaga saga = new StagedSaga(new StagedSaga.Progress() {
      @Override
      public void step(String name, String status, String detail) {
        progress(name, status, detail);
      }

      @Override
      public void undoing(String name) {
        count(Counter.SAGA_COMPENSATIONS, name);
      }
    });
    try {
      saga.run(allocationSaga(PlacementStubs.of(params.placement())));
      setState(WorkspaceState.READY);
      progress("ready", "done", params.url());
      if (coldStart) {
        // After a cold start the signal keeps its order behind this task's cancelNeed: a poke sent
        // by the worker while the task runs could reach the controller first, and a pass that still
        // counted this workflow as waiting would launch a host for it.
        Async.procedure(capacity()::poke, "allocated");
      }
      return true;
    } catch (ActivityFailure | ApplicationFailure | CanceledFailure e) {
      reason = reasonOf(e);
      log.warn("allocation failed for {}: {}; compensating", params.user(), reason);
      progress("rollback", "running", reason);
      saga.compensate();
      setState(WorkspaceState.FAILED);
      progress("rollback", "done", reason);
      return false;
    }
  }

  /** A probe that fails marks the slot broken, for the claim's undo to quarantine. */
  private Promise<Void> markBrokenOnFailure(Promise<Void> probe) {
    return probe.handle((ok, failure) -> {
      if (failure != null) {
        slotBroken = true;
        count(Counter.PROBE_FAILURES, "allocate");
        throw failure;
      }
      return ok;
    });
  }

  /**
   * The session starts the workspace's clock. A warm allocation pokes the controller in the
   * session's own local activity, right after it: a pass that saw the slot tagged but no session yet
   * would take it for a stray and resync the workspace (a fresh heartbeat token) right after READY.
   */
  private void storeSession() {
    allocatedAt = Workflow.currentTimeMillis();
    deadline = IdleDeadline.after(allocatedAt, idleMillis(), allocatedAt + params.maxLifetime().toMillis());
    if (coldStart) {
      ActivityStubs.localSagaStore().storeSession(session());
    } else {
      ActivityStubs.localSessionThenPoke().storeSessionThenPoke(session(), "allocated");
    }
  }

  /**
   * The placement steps' stubs, in the workflow task or as regular activities as the run's input
   * says. A cancelled call resolves only once it ended (local activities always run to their end).
   */
  record PlacementStubs(ProbeActivities probe, FleetActivities fleet, DnsActivities dns, RouteActivities routes) {
    static PlacementStubs of(Placement placement) {
      return placement == Placement.IN_TASK
          ? new PlacementStubs(ActivityStubs.InTask.probeUntilReady(), ActivityStubs.InTask.fleet(),
              ActivityStubs.InTask.dns(), ActivityStubs.InTask.routes())
          : new PlacementStubs(ActivityStubs.probeUntilReady(true), ActivityStubs.fleet(false, true),
              ActivityStubs.dns(false, true), ActivityStubs.routes(false, true));
    }
  }

  /**
   * A warm spare if there is one (a local activity in the workflow task); otherwise the cold path,
   * bounded by the cold-start timeout.
   */
  private Slot claimSlot() {
    StoreActivities claims = ActivityStubs.localSagaStore();
    ClaimRequest claim = new ClaimRequest(requestId, params.user(), params.template());
    Slot claimed = claims.claimSpare(claim);
    if (claimed != null) {
      return claimed;
    }
    setState(WorkspaceState.PROVISIONING);
    coldStart = true;
    progress("capacity", "running", "no spare ready; asking for capacity");
    String me = Workflow.getInfo().getWorkflowId();
    CapacityRequest need = new CapacityRequest(me, params.user(), params.template(), Workflow.currentTimeMillis());
    long giveUpAt = Workflow.currentTimeMillis() + params.coldStartTimeout().toMillis();
    try {
      while (true) {
        spareSignal = false;
        // Re-sent now and then: the controller keeps one entry per workflow, in first-arrival order.
        Async.procedure(capacity()::needCapacity, need);
        long left = giveUpAt - Workflow.currentTimeMillis();
        if (left <= 0) {
          throw ApplicationFailure.newNonRetryableFailure(
              "no capacity within the cold-start timeout of " + params.coldStartTimeout(), "ColdStartTimeout");
        }
        Workflow.await(Duration.ofMillis(Math.min(left, 30_000)),
            () -> spareSignal || releaseReason != null || noCapacityReason != null);
        if (releaseReason != null) {
          throw ApplicationFailure.newNonRetryableFailure("released while provisioning", "Released");
        }
        if (noCapacityReason != null) {
          throw ApplicationFailure.newNonRetryableFailure(noCapacityReason, "AtCapacity");
        }
        claimed = claims.claimSpare(claim);
        if (claimed != null) {
          setState(WorkspaceState.ALLOCATING);
          progress("capacity", "done", claimed.slotId());
          return claimed;
        }
      }
    } finally {
      Async.procedure(capacity()::cancelNeed, me);
    }
  }

  // ---- active ---------------------------------------------------------------------------------

  /**
   * Until released, past the lifetime, or idle. The idle deadline is enforced by an armed reclaim on
   * the worker, set up a lead time ahead ({@link #reclaimArmed}); if arming fails for good, by a
   * timer at the deadline after asking Redis for activity the workflow was not signalled about.
   */
  private void activeLoop() {
    long lead = params.armedLead().toMillis();
    while (true) {
      long now = Workflow.currentTimeMillis();
      if (releaseReason != null) {
        reason = releaseReason;
        return;
      }
      if (now >= deadline.lifetimeEnd()) {
        reason = "max lifetime reached";
        return;
      }
      if (!armed && now >= deadline.at()) {
        // Heartbeats inside a coalescing window reach Redis but not this workflow: ask before reclaiming.
        if (deadline.activeAt(ActivityStubs.localStore().lastActivity(params.user()))) {
          continue;
        }
        reason = "idle";
        return;
      }
      if (resyncRetryAt > 0 && now >= resyncRetryAt) {
        resyncRetryAt = 0;
        resyncWanted = true;
      }
      if (resyncWanted) {
        resyncWanted = false;
        resyncReadModel();
        continue;
      }
      boolean armable = armed && !deadline.atLifetimeEnd();
      if (armable && now >= deadline.at() - lead) {
        long armedFor = deadline.at();
        ReclaimOutcome outcome = reclaimArmed();
        if (outcome == null) {
          continue; // released meanwhile, or the armed call failed for good (then: the timer path)
        }
        if (outcome.reclaimed()) {
          deadline.expiredAt(armedFor);
          reason = "idle";
          return;
        }
        deadline.moveTo(Math.max(outcome.lastActivityMillis() + idleMillis(), outcome.heldUntilMillis()));
        continueAsNewWhenLong();
        continue;
      }
      long wake = Math.min(armable ? deadline.at() - lead : deadline.at(), deadline.lifetimeEnd());
      if (resyncRetryAt > 0) {
        wake = Math.min(wake, resyncRetryAt);
      }
      deadline.awaitUntil(wake, () -> releaseReason != null || resyncWanted);
      continueAsNewWhenLong();
    }
  }

  private void continueAsNewWhenLong() {
    if (Workflow.getInfo().getHistoryLength() > HISTORY_LIMIT || Workflow.getInfo().isContinueAsNewSuggested()) {
      Workflow.await(Workflow::isEveryHandlerFinished);
      Workflow.continueAsNew(params.withResume(
          new ActiveWorkspace(requestId, workspaceId, slot, allocatedAt, deadline.at(), deadline.lifetimeEnd())));
    }
  }

  /**
   * Sets up the reclaim of the current idle deadline on the worker and waits for its verdict. The
   * worker removes the route at the deadline itself when the workspace is still idle then
   * (heartbeats and extends reach Redis, where it looks), so neither a backlog of workflow tasks nor
   * this workflow's wake-up delays the route going; the teardown that follows finds it gone.
   * Heartbeat signals and extends during the wait need no action here: the worker's check sees them.
   * A release ends the wait (the armed call is left to run out: it can only remove this request's
   * route, which the teardown removes anyway). Null when released, or when the armed call failed for
   * good (then {@link #armed} turns false).
   */
  private ReclaimOutcome reclaimArmed() {
    ReclaimRequest request = new ReclaimRequest(route(), deadline.at(), idleMillis());
    Promise<ReclaimOutcome> outcome = Async.function(ActivityStubs.armedReclaim(params.armedLead())::reclaimAt, request);
    Workflow.await(() -> outcome.isCompleted() || releaseReason != null);
    if (!outcome.isCompleted()) {
      return null;
    }
    try {
      return outcome.get();
    } catch (ActivityFailure e) {
      log.warn("armed reclaim of {} failed for good, falling back to the idle timer: {}", params.user(), reasonOf(e));
      armed = false;
      return null;
    }
  }

  /**
   * Redis lost its data: write the session (a fresh heartbeat token) unless it is intact, and the
   * route again (the step is idempotent). A failure is not fatal: the workspace tries again after {@link #RESYNC_RETRY}
   * (the session may have been written without its token reaching the slot, and then the
   * controller would not ask again).
   */
  private void resyncReadModel() {
    try {
      store.restoreSession(session());
      routes.routeWorkspace(route());
    } catch (ActivityFailure e) {
      log.warn("resync of {} failed, trying again in {}: {}", params.user(), RESYNC_RETRY, reasonOf(e));
      resyncRetryAt = Workflow.currentTimeMillis() + RESYNC_RETRY.toMillis();
    }
  }

  // ---- teardown (converges, never rolled back) --------------------------------------------------

  private void teardown() {
    setState(WorkspaceState.RELEASING);
    progress("teardown", "running", reason);
    count(Counter.RECLAIMS, BerthCounters.reclaimReason(reason));
    StoreActivities store = ActivityStubs.store(true);
    FleetActivities fleet = ActivityStubs.fleet(true);
    ActivityStubs.routes(true).unrouteWorkspace(route());
    ActivityStubs.dns(true).deleteRecord(dnsRecord());
    store.deleteSession(params.user(), workspaceId);
    // Recycled before the untag: between the two, the controller could pool the previous user's
    // still running process.
    fleet.recycleSlot(slot);
    fleet.untagOwner(requestId, slot, params.user());
    fleet.unprotectHost(requestId, slot);
    store.forgetClaim(requestId);
    setState(WorkspaceState.RELEASED);
    progress("teardown", "done", reason);
    pokeCapacity("released");
  }

  // ---- handlers -----------------------------------------------------------------------------

  /**
   * Answers once the allocation settled, without a timer (a warm allocation settles within the
   * claim's workflow task); a cold start answers with the PROVISIONING view after the allocate wait.
   */
  @Override
  public WorkspaceView allocate(AllocateRequest request) {
    if (state.settled() || releaseReason != null) {
      return view();
    }
    Workflow.await(() -> state.settled() || state == WorkspaceState.PROVISIONING || releaseReason != null);
    if (state == WorkspaceState.PROVISIONING) {
      Workflow.await(params.allocateWait(), () -> state.settled() || releaseReason != null);
    }
    return view();
  }

  @Override
  public void heartbeat() {
    if (state == WorkspaceState.READY) {
      deadline.activeAt(Workflow.currentTimeMillis());
    }
  }

  /**
   * The beat's own time, not the time this handler runs: a signal delayed in a queue or behind a
   * busy worker must not hold an idle workspace past its deadline. Never shortens the deadline
   * (an extend stays), never passes the max lifetime.
   */
  @Override
  public void beat(long atMillis) {
    if (state != WorkspaceState.READY) {
      return;
    }
    long now = Workflow.currentTimeMillis();
    if (atMillis > now + MAX_BEAT_SKEW_MILLIS) {
      log.warn("ignoring a beat for {} stamped {} ms ahead of the workflow clock", params.user(), atMillis - now);
      return;
    }
    deadline.activeAt(Math.min(atMillis, now));
  }

  /**
   * The new deadline is first recorded in Redis, where an armed reclaim already waiting on the
   * worker sees it; one that has already reclaimed makes the extend too late (the deadline stays,
   * the workspace goes).
   */
  @Override
  public WorkspaceView extend(long seconds) {
    if (state == WorkspaceState.READY) {
      long wanted = Workflow.currentTimeMillis() + Math.max(1, seconds) * 1000;
      long next = deadline.movedTo(wanted);
      if (next > deadline.at() && armed && !ActivityStubs.localHold().holdUntil(requestId, next)) {
        log.info("extend of {} came after its armed reclaim removed the route", params.user());
        return view();
      }
      deadline.moveTo(wanted);
    }
    return view();
  }

  @Override
  public void release(String why) {
    if (releaseReason == null) {
      releaseReason = "released by " + (why == null || why.isBlank() ? "user" : why);
    }
  }

  @Override
  public void resync() {
    if (state == WorkspaceState.READY) {
      resyncWanted = true;
    }
  }

  @Override
  public void noCapacity(String why) {
    if (state == WorkspaceState.PROVISIONING) {
      noCapacityReason = why;
    }
  }

  @Override
  public void spareAvailable() {
    spareSignal = true;
  }

  @Override
  public WorkspaceView view() {
    boolean hasSlot = slot != null && state != WorkspaceState.FAILED;
    // A release is decided the moment it is asked for, before the active loop wakes to act on it.
    WorkspaceState shown = state == WorkspaceState.READY && releaseReason != null ? WorkspaceState.RELEASING : state;
    return new WorkspaceView(params.user(), workspaceId, shown, params.url(),
        hasSlot ? slot.hostId() : null, hasSlot ? slot.slotId() : null, params.template(),
        params.idleTimeout().toSeconds(), allocatedAt, deadline == null ? 0 : deadline.at(),
        deadline == null ? 0 : deadline.lifetimeEnd(), reason, List.copyOf(steps));
  }

  // ---- values ---------------------------------------------------------------------------------

  /** State changes are upserted as search attributes so operators can filter by them. */
  private void setState(WorkspaceState next) {
    state = next;
    List<SearchAttributeUpdate<?>> updates = new ArrayList<>();
    updates.add(SearchAttributes.STATE.valueSet(next.name()));
    updates.add(SearchAttributes.USER.valueSet(params.user()));
    if (slot != null) {
      updates.add(SearchAttributes.INSTANCE.valueSet(slot.hostId()));
    }
    Workflow.upsertTypedSearchAttributes(updates.toArray(new SearchAttributeUpdate<?>[0]));
  }

  private long idleMillis() {
    return params.idleTimeout().toMillis();
  }

  private DnsRecord dnsRecord() {
    return new DnsRecord(requestId, params.hostname(), slot.address());
  }

  private RouteSpec route() {
    return new RouteSpec(requestId, params.user(), params.label(), params.hostname(), slot.address(), slot.port());
  }

  private Session session() {
    return new Session(requestId, params.user(), workspaceId, params.label(), params.url(), slot, params.template(),
        allocatedAt, deadline.at(), deadline.lifetimeEnd(), idleMillis(), WorkspaceState.READY.name());
  }

  /**
   * Metrics go through the SDK's replay-aware scope: no history events, so no version marker;
   * the worker's reporter carries them to Redis for the API to export.
   */
  private static void count(Counter counter, String value) {
    BerthCounters.count(Workflow.getMetricsScope(), counter, value);
  }

  private void progress(String name, String status, String detail) {
    steps.add(new ProgressStep(name, status, Workflow.currentTimeMillis(), detail));
  }

  /**
   * Best effort, through the worker (coalesced, a local activity): the controller also reconciles
   * on its timer, so a missing controller is not fatal. Waited for: these pokes come last, and a
   * local activity still pending when the workflow completes is dropped.
   */
  private void pokeCapacity(String why) {
    try {
      if (pools) {
        ActivityStubs.localPokes().pokeCapacityOf(params.controllerId(), why);
      } else {
        ActivityStubs.localPokes().pokeCapacity(why);
      }
    } catch (ActivityFailure e) {
      log.warn("poke '{}' of the capacity controller failed: {}", why, reasonOf(e));
    }
  }

  /** Signals to it go through {@code Async}: a missing controller fails only its own promise, not this workflow. */
  private CapacityWorkflow capacity() {
    return Workflow.newExternalWorkflowStub(CapacityWorkflow.class, pools ? params.controllerId() : CapacityWorkflow.ID);
  }

  private static String reasonOf(Exception e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    String msg = t instanceof ApplicationFailure af ? af.getOriginalMessage() : t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg;
  }
}
