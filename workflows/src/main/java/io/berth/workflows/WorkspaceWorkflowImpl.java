package io.berth.workflows;

import io.berth.workflows.BerthCounters.Counter;
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
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.ReclaimOutcome;
import io.berth.workflows.model.ReclaimRequest;
import io.berth.workflows.model.RouteSpec;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.common.SearchAttributeUpdate;
import io.temporal.failure.CanceledFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Saga;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;

public class WorkspaceWorkflowImpl implements WorkspaceWorkflow {
  /** Continue-as-new well before Temporal's 10,240-event warning. */
  static final int HISTORY_LIMIT = 4_000;
  /** Version marker: probe, tag, protect, DNS and route run side by side. */
  static final String PARALLEL_SAGA = "parallel-saga";
  /** Version marker: a resync re-runs the route step too (routes live in Redis). */
  static final String RESYNC_ROUTE = "resync-route";
  /** Version marker: the saga's claim and session steps run as local activities. */
  static final String LOCAL_STORE_STEPS = "local-store-steps";
  /**
   * Version marker: the idle deadline is enforced by an armed reclaim on the worker (set up a lead
   * time ahead, it removes the route at the deadline itself) instead of a timer at the deadline.
   */
  static final String ARMED_RECLAIM = "armed-reclaim";
  /**
   * Version marker, asked only by {@link LocalWorkspaceWorkflowImpl}: the placement steps run as
   * local activities in the claim's workflow task.
   */
  static final String IN_TASK_PLACEMENT = "in-task-placement";
  /**
   * Version marker: the capacity controller is poked through the worker ({@link CapacityPokes}:
   * coalesced, a local activity instead of a signal), except after a cold start.
   */
  static final String WORKER_POKES = "worker-pokes";
  /** Version marker: the idle check before a reclaim is a local activity. */
  static final String IDLE_CHECK_LOCAL = "idle-check-local";
  /** Version marker: the teardown recycles the slot before it untags it. */
  static final String TEARDOWN_RECYCLE_FIRST = "teardown-recycle-first";
  /**
   * Version marker for every change above at once but {@value #IN_TASK_PLACEMENT}: a run started
   * since records this one marker instead of one per change. Each version check costs the workflow
   * thread a yield and the history an event, and an allocation asked five. Runs recorded before ask
   * each change as they did ({@link #since}). {@value #IN_TASK_PLACEMENT} keeps its own marker, asked
   * only by {@link LocalWorkspaceWorkflowImpl}: a history without it replays with regular placement
   * activities on either class. Runs started since {@value #CHANGES_2026_12B} record that one instead.
   */
  static final String CHANGES_2026_12 = "changes-2026-12";
  /**
   * Version marker for every change of {@value #CHANGES_2026_12} and three more, in the one marker a
   * new run records: the allocate update waits without a timer until the claim is known (a warm
   * allocation settles within that workflow task; only a cold start's wait is bounded by a timer,
   * which otherwise fired a minute later into an idle workflow task per allocation); a warm
   * allocation's poke goes with its session, in one local activity ({@link SessionThenPoke}); and the
   * placement: version 2 ({@link LocalWorkspaceWorkflowImpl}) runs it in the claim's task, as
   * {@value #IN_TASK_PLACEMENT} did, version 1 with regular activities. A history of one class
   * replays on the other only with version 1 (a regular worker refuses version 2).
   */
  static final String CHANGES_2026_12B = "changes-2026-12b";
  /**
   * A {@link #beat} stamped further ahead of the workflow's clock than this is ignored: clocks of
   * the API and the worker may differ a little, but a beat from the future must not buy idle time.
   */
  static final long MAX_BEAT_SKEW_MILLIS = 5_000;
  static final Duration RESYNC_RETRY = Duration.ofSeconds(5);
  private static final Logger log = Workflow.getLogger(WorkspaceWorkflowImpl.class);

  private final WorkspaceParams params;
  private final List<ProgressStep> steps = new ArrayList<>();
  private final StoreActivities store = ActivityStubs.store(false);
  private final FleetActivities fleet = ActivityStubs.fleet(false);
  private final DnsActivities dns = ActivityStubs.dns(false);
  private final RouteActivities routes = ActivityStubs.routes(false);
  private final ProbeActivities probe = ActivityStubs.probeUntilReady();
  /** The claim and session steps' stub: {@link #store} before version {@value #LOCAL_STORE_STEPS}. */
  private StoreActivities sagaStore;

  private WorkspaceState state = WorkspaceState.ALLOCATING;
  private String requestId;
  private String workspaceId;
  private Slot slot;
  private long allocatedAt;
  private long idleDeadline;
  private long expiresAt;
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
  /** Bumped by heartbeats and extends so the active loop re-arms its timer. */
  private int touches;
  /** Whether this run arms its reclaims ({@value #ARMED_RECLAIM}); null until first asked. */
  private Boolean armed;
  /** Whether this run has {@value #CHANGES_2026_12}; null until asked (after {@link #changesB}). */
  private Boolean changes202612;
  /** This run's version of {@value #CHANGES_2026_12B}; null until the first version check. */
  private Integer changesB;

  @WorkflowInit
  public WorkspaceWorkflowImpl(WorkspaceParams params) {
    this.params = params;
    ActiveWorkspace resume = params.resume();
    if (resume != null) {
      requestId = resume.requestId();
      workspaceId = resume.workspaceId();
      slot = resume.slot();
      allocatedAt = resume.allocatedAtMillis();
      idleDeadline = resume.idleDeadlineMillis();
      expiresAt = resume.expiresAtMillis();
      state = WorkspaceState.READY;
    }
  }

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

  @Override
  public WorkspaceView run(WorkspaceParams ignored) {
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

  private boolean allocate() {
    requestId = Workflow.randomUUID().toString();
    workspaceId = Workflow.randomUUID().toString();
    // v1 places the workspace with probe, tag, protect, DNS and route side by side (one task hop
    // instead of five); histories recorded before replay the one-by-one order.
    boolean sideBySide = since(PARALLEL_SAGA);
    // v1 claims and stores the session inside the workflow task (two task round trips fewer per
    // warm allocation); compensations stay regular activities, retried apart from the task.
    sagaStore = since(LOCAL_STORE_STEPS)
        ? ActivityStubs.localSagaStore() : store;
    Saga saga = new Saga(new Saga.Options.Builder().setContinueWithError(true).build());
    try {
      saga.addCompensation(() -> {
        compensating("claim");
        store.unclaim(requestId, slotBroken);
      });
      slot = claimSlot();
      if (sideBySide) {
        placeSideBySide(saga);
      } else {
        placeOneByOne(saga);
      }

      step("session", "running", null);
      allocatedAt = Workflow.currentTimeMillis();
      expiresAt = allocatedAt + params.maxLifetime().toMillis();
      idleDeadline = Math.min(allocatedAt + idleMillis(), expiresAt);
      saga.addCompensation(() -> {
        compensating("session");
        store.deleteSession(params.user(), workspaceId);
      });
      // A warm allocation pokes the controller in the session's own local activity, right after it.
      boolean pokedWithSession = !coldStart && hasChangesB();
      if (pokedWithSession) {
        ActivityStubs.localSessionThenPoke().storeSessionThenPoke(session(), "allocated");
      } else {
        sagaStore.storeSession(session());
      }

      setState(WorkspaceState.READY);
      step("ready", "done", params.url());
      if (coldStart) {
        // After a cold start the signal keeps its order behind this task's cancelNeed: a poke sent
        // by the worker while the task runs could reach the controller first, and a pass that still
        // counted this workflow as waiting would launch a host for it.
        signalCapacity("poke", "allocated");
      } else if (!pokedWithSession) {
        // Only now: a pass that saw the slot tagged but no session yet would take it for a stray
        // and resync the workspace (a fresh heartbeat token) right after READY.
        pokeCapacity("allocated");
      }
      return true;
    } catch (ActivityFailure | ApplicationFailure | CanceledFailure e) {
      reason = reasonOf(e);
      log.warn("allocation failed for {}: {}; compensating", params.user(), reason);
      step("rollback", "running", reason);
      Workflow.newDetachedCancellationScope(saga::compensate).run();
      setState(WorkspaceState.FAILED);
      step("rollback", "done", reason);
      return false;
    }
  }

  /** Before version {@value #PARALLEL_SAGA}: each step waits for the one before. */
  private void placeOneByOne(Saga saga) {
    step("probe", "running", slot.slotId());
    try {
      probe.awaitReady(slot);
    } catch (ActivityFailure e) {
      slotBroken = true;
      count(Counter.PROBE_FAILURES, "allocate");
      throw e;
    }
    step("probe", "done", null);

    step("tag", "running", slot.hostId());
    Slot claimed = slot;
    saga.addCompensation(() -> {
      compensating("tag");
      fleet.untagOwner(requestId, claimed, params.user());
    });
    fleet.tagOwner(requestId, slot, params.user());

    step("protect", "running", slot.hostId());
    saga.addCompensation(() -> {
      compensating("protect");
      fleet.unprotectHost(requestId, claimed);
    });
    fleet.protectHost(requestId, slot.hostId());

    step("dns", "running", params.hostname());
    DnsRecord record = dnsRecord();
    saga.addCompensation(() -> {
      compensating("dns");
      dns.deleteRecord(record);
    });
    dns.upsertRecord(record);

    step("route", "running", params.hostname());
    RouteSpec route = route();
    saga.addCompensation(() -> {
      compensating("route");
      routes.unrouteWorkspace(route);
    });
    routes.routeWorkspace(route);
  }

  /**
   * Probe, tag, protect, DNS and route need only the claimed slot, not one another: they start
   * together, each compensation registered right before its call starts (every undo tolerates a
   * step that never ran or failed half way). Every started step settles before anything is judged,
   * so no compensation runs while the step it undoes is still in flight; then the first failure in
   * step order is thrown. A probe failure still marks the slot broken (quarantined by the undo).
   */
  private void placeSideBySide(Saga saga) {
    Slot claimed = slot;
    DnsRecord record = dnsRecord();
    RouteSpec route = route();
    SettlingStubs settling = placesInTask() && placementInTask() ? SettlingStubs.inTask() : SettlingStubs.regular();
    List<Promise<Void>> started = new ArrayList<>();

    step("probe", "running", claimed.slotId());
    Promise<Void> probed = Async.procedure(settling.probe::awaitReady, claimed);
    started.add(markDoneOnSuccess("probe", probed));

    step("tag", "running", claimed.hostId());
    saga.addCompensation(() -> {
      compensating("tag");
      fleet.untagOwner(requestId, claimed, params.user());
    });
    started.add(markDoneOnSuccess("tag", Async.procedure(settling.fleet::tagOwner, requestId, claimed, params.user())));

    step("protect", "running", claimed.hostId());
    saga.addCompensation(() -> {
      compensating("protect");
      fleet.unprotectHost(requestId, claimed);
    });
    started.add(markDoneOnSuccess("protect", Async.procedure(settling.fleet::protectHost, requestId, claimed.hostId())));

    step("dns", "running", params.hostname());
    saga.addCompensation(() -> {
      compensating("dns");
      dns.deleteRecord(record);
    });
    started.add(markDoneOnSuccess("dns", Async.procedure(settling.dns::upsertRecord, record)));

    step("route", "running", params.hostname());
    saga.addCompensation(() -> {
      compensating("route");
      routes.unrouteWorkspace(route);
    });
    started.add(markDoneOnSuccess("route", Async.procedure(settling.routes::routeWorkspace, route)));

    awaitSettled(started);
    if (probed.getFailure() != null) {
      slotBroken = true;
      count(Counter.PROBE_FAILURES, "allocate");
    }
    for (Promise<Void> p : started) {
      if (p.getFailure() != null) {
        throw p.getFailure();
      }
    }
  }

  /** A "done" progress step at the moment a side-by-side step succeeds (the dashboard ticks it off). */
  private Promise<Void> markDoneOnSuccess(String name, Promise<Void> call) {
    return call.thenApply(ok -> {
      step(name, "done", null);
      return ok;
    });
  }

  /**
   * Promise.allOf fails fast; this waits for every one. When the workflow is cancelled meanwhile,
   * it still waits (in a detached scope) before the cancellation reaches the saga: the settling
   * stubs report a cancelled activity only once it has really stopped.
   */
  private static void awaitSettled(List<Promise<Void>> promises) {
    Supplier<Boolean> settled = () -> promises.stream().allMatch(Promise::isCompleted);
    try {
      Workflow.await(settled);
    } catch (CanceledFailure e) {
      Workflow.newDetachedCancellationScope(() -> Workflow.await(settled)).run();
      throw e;
    }
  }

  /** Version 2 of {@value #CHANGES_2026_12B}, or, in a run from before it, {@value #IN_TASK_PLACEMENT}. */
  private boolean placementInTask() {
    if (hasChangesB()) {
      return changesB() == 2;
    }
    return Workflow.getVersion(IN_TASK_PLACEMENT, Workflow.DEFAULT_VERSION, 1) == 1;
  }

  /**
   * Whether this worker's placement steps are local work (the local fleet, no DNS) that may run
   * inside the workflow task; see {@link LocalWorkspaceWorkflowImpl}.
   */
  protected boolean placesInTask() {
    return false;
  }

  /**
   * The side-by-side steps' stubs: same options, but a cancelled call resolves only once it ended
   * (local activities always run to their end).
   */
  private record SettlingStubs(ProbeActivities probe, FleetActivities fleet, DnsActivities dns, RouteActivities routes) {
    static SettlingStubs regular() {
      return new SettlingStubs(ActivityStubs.probeUntilReady(true), ActivityStubs.fleet(false, true),
          ActivityStubs.dns(false, true), ActivityStubs.routes(false, true));
    }

    static SettlingStubs inTask() {
      return new SettlingStubs(ActivityStubs.InTask.probeUntilReady(), ActivityStubs.InTask.fleet(),
          ActivityStubs.InTask.dns(), ActivityStubs.InTask.routes());
    }
  }

  /** A warm spare if there is one; otherwise the cold path, bounded by the cold-start timeout. */
  private Slot claimSlot() {
    step("claim", "running", params.template());
    ClaimRequest claim = new ClaimRequest(requestId, params.user(), params.template());
    Slot claimed = sagaStore.claimSpare(claim);
    if (claimed != null) {
      step("claim", "done", claimed.slotId());
      return claimed;
    }
    setState(WorkspaceState.PROVISIONING);
    coldStart = true;
    step("capacity", "running", "no spare ready; asking for capacity");
    String me = Workflow.getInfo().getWorkflowId();
    CapacityRequest need = new CapacityRequest(me, params.user(), params.template(), Workflow.currentTimeMillis());
    long deadline = Workflow.currentTimeMillis() + params.coldStartTimeout().toMillis();
    try {
      while (true) {
        spareSignal = false;
        // Re-sent now and then: the controller keeps one entry per workflow, in first-arrival order.
        signalCapacity("needCapacity", need);
        long left = deadline - Workflow.currentTimeMillis();
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
        claimed = sagaStore.claimSpare(claim);
        if (claimed != null) {
          setState(WorkspaceState.ALLOCATING);
          step("capacity", "done", claimed.slotId());
          return claimed;
        }
      }
    } finally {
      signalCapacity("cancelNeed", me);
    }
  }

  // ---- active ---------------------------------------------------------------------------------

  private void activeLoop() {
    long lead = armed() ? params.armedLead().toMillis() : 0;
    while (true) {
      // Read each time: an armed call that failed for good turns it off (the timer path from then on).
      boolean arming = armed();
      long now = Workflow.currentTimeMillis();
      if (releaseReason != null) {
        reason = releaseReason;
        return;
      }
      if (now >= expiresAt) {
        reason = "max lifetime reached";
        return;
      }
      if (!arming && now >= idleDeadline) {
        // Heartbeats inside a coalescing window reach Redis but not this workflow: ask before reclaiming.
        long last = lastActivity();
        if (last + idleMillis() > now) {
          idleDeadline = Math.min(last + idleMillis(), expiresAt);
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
      // An idle deadline at the max lifetime is not armed: the lifetime ends the workspace then anyway.
      boolean armable = arming && idleDeadline < expiresAt;
      if (armable && now >= idleDeadline - lead) {
        long armedFor = idleDeadline;
        ReclaimOutcome outcome = reclaimArmed();
        if (outcome == null) {
          continue; // released meanwhile, or the armed call failed for good (then: the timer path)
        }
        if (outcome.reclaimed()) {
          // The deadline that expired, even if a beat stamped after it moved ours meanwhile.
          idleDeadline = armedFor;
          reason = "idle";
          return;
        }
        long kept = Math.max(outcome.lastActivityMillis() + idleMillis(), outcome.heldUntilMillis());
        idleDeadline = Math.min(Math.max(idleDeadline, kept), expiresAt);
        continueAsNewWhenLong();
        continue;
      }
      int seen = touches;
      long wake = Math.min(armable ? idleDeadline - lead : idleDeadline, expiresAt);
      if (resyncRetryAt > 0) {
        wake = Math.min(wake, resyncRetryAt);
      }
      Workflow.await(Duration.ofMillis(wake - now),
          () -> touches != seen || releaseReason != null || resyncWanted);
      continueAsNewWhenLong();
    }
  }

  private void continueAsNewWhenLong() {
    if (Workflow.getInfo().getHistoryLength() > HISTORY_LIMIT || Workflow.getInfo().isContinueAsNewSuggested()) {
      Workflow.await(Workflow::isEveryHandlerFinished);
      Workflow.continueAsNew(params.withResume(
          new ActiveWorkspace(requestId, workspaceId, slot, allocatedAt, idleDeadline, expiresAt)));
    }
  }

  /**
   * Since version {@value #ARMED_RECLAIM}: set up the reclaim of the current idle deadline on the
   * worker and wait for its verdict. The worker removes the route at the deadline itself when the
   * workspace is still idle then (heartbeats and extends reach Redis, where it looks), so neither a
   * backlog of workflow tasks nor this workflow's wake-up delays the route going; the teardown
   * that follows finds the route already gone. Heartbeat signals and extends during the wait need
   * no action here: the worker's check sees them. A release ends the wait (the armed call is left
   * to run out: it can only remove this request's route, which the teardown removes anyway).
   * Null when released, or when the armed call failed for good (then {@link #armed} turns false).
   */
  private ReclaimOutcome reclaimArmed() {
    ReclaimRequest request = new ReclaimRequest(route(), idleDeadline, idleMillis());
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

  /** Whether this run arms its reclaims: asked once, from the active loop or an extend, whichever comes first. */
  private boolean armed() {
    if (armed == null) {
      armed = since(ARMED_RECLAIM);
    }
    return armed;
  }

  /**
   * Redis lost its data: write the session again (a fresh heartbeat token) and, since version
   * {@value #RESYNC_ROUTE}, the route too (it lives in Redis; the step is idempotent). A failure is
   * not fatal: the workspace tries again after {@link #RESYNC_RETRY} (the session may have been
   * written without its token reaching the slot, and then the controller would not ask again).
   */
  private void resyncReadModel() {
    if (!since(RESYNC_ROUTE)) {
      store.storeSession(session());
      return;
    }
    try {
      store.storeSession(session());
      routes.routeWorkspace(route());
    } catch (ActivityFailure e) {
      log.warn("resync of {} failed, trying again in {}: {}", params.user(), RESYNC_RETRY, reasonOf(e));
      resyncRetryAt = Workflow.currentTimeMillis() + RESYNC_RETRY.toMillis();
    }
  }

  /**
   * v1 asks Redis in a local activity: at a reclaim the route then goes one workflow task and one
   * activity task sooner, which is most of the lateness when many workspaces expire together.
   */
  private long lastActivity() {
    if (!since(IDLE_CHECK_LOCAL)) {
      return store.lastActivity(params.user());
    }
    return ActivityStubs.localStore().lastActivity(params.user());
  }

  // ---- teardown (converges, never rolled back) --------------------------------------------------

  private void teardown() {
    setState(WorkspaceState.RELEASING);
    step("teardown", "running", reason);
    count(Counter.RECLAIMS, BerthCounters.reclaimReason(reason));
    StoreActivities store = ActivityStubs.store(true);
    FleetActivities fleet = ActivityStubs.fleet(true);
    ActivityStubs.routes(true).unrouteWorkspace(route());
    ActivityStubs.dns(true).deleteRecord(dnsRecord());
    store.deleteSession(params.user(), workspaceId);
    // v1 recycles first: between an untag and the recycle, the controller could pool the previous
    // user's still-running process.
    boolean recycleFirst = since(TEARDOWN_RECYCLE_FIRST);
    if (recycleFirst) {
      fleet.recycleSlot(slot);
    }
    fleet.untagOwner(requestId, slot, params.user());
    fleet.unprotectHost(requestId, slot);
    if (!recycleFirst) {
      fleet.recycleSlot(slot);
    }
    store.forgetClaim(requestId);
    setState(WorkspaceState.RELEASED);
    step("teardown", "done", reason);
    pokeCapacity("released");
  }

  // ---- handlers -----------------------------------------------------------------------------

  /**
   * Answers once the allocation settled, or with the PROVISIONING view after the allocate wait of a
   * cold start. Since {@value #CHANGES_2026_12B} only that wait has a timer.
   */
  @Override
  public WorkspaceView allocate(AllocateRequest request) {
    if (hasChangesB()) {
      if (state.settled() || releaseReason != null) {
        return view();
      }
      Workflow.await(() -> state.settled() || state == WorkspaceState.PROVISIONING || releaseReason != null);
      if (state != WorkspaceState.PROVISIONING) {
        return view();
      }
    }
    Workflow.await(params.allocateWait(), () -> state.settled() || releaseReason != null);
    return view();
  }

  @Override
  public void heartbeat() {
    if (state == WorkspaceState.READY) {
      idleDeadline = Math.min(Workflow.currentTimeMillis() + idleMillis(), expiresAt);
      touches++;
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
    long deadline = Math.min(Math.max(idleDeadline, Math.min(atMillis, now) + idleMillis()), expiresAt);
    if (deadline != idleDeadline) {
      idleDeadline = deadline;
      touches++;
    }
  }

  /**
   * Since version {@value #ARMED_RECLAIM} the new deadline is first recorded in Redis, where an
   * armed reclaim already waiting on the worker sees it; one that has already reclaimed makes the
   * extend too late (the deadline stays, the workspace goes).
   */
  @Override
  public WorkspaceView extend(long seconds) {
    if (state == WorkspaceState.READY) {
      long wanted = Workflow.currentTimeMillis() + Math.max(1, seconds) * 1000;
      long deadline = Math.min(Math.max(idleDeadline, wanted), expiresAt);
      if (deadline > idleDeadline && armed() && !ActivityStubs.localHold().holdUntil(requestId, deadline)) {
        log.info("extend of {} came after its armed reclaim removed the route", params.user());
        return view();
      }
      idleDeadline = Math.max(idleDeadline, deadline);
      touches++;
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
        params.idleTimeout().toSeconds(), allocatedAt, idleDeadline, expiresAt, reason, List.copyOf(steps));
  }

  // ---- values ---------------------------------------------------------------------------------

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
        allocatedAt, idleDeadline, expiresAt, idleMillis(), WorkspaceState.READY.name());
  }

  /**
   * Metrics go through the SDK's replay-aware scope: no history events, so no version marker;
   * the worker's reporter carries them to Redis for the API to export.
   */
  private static void count(Counter counter, String value) {
    BerthCounters.count(Workflow.getMetricsScope(), counter, value);
  }

  private static void compensating(String step) {
    count(Counter.SAGA_COMPENSATIONS, step);
  }

  private void step(String name, String status, String detail) {
    steps.add(new ProgressStep(name, status, Workflow.currentTimeMillis(), detail));
  }

  private void pokeCapacity(String why) {
    // Best effort: the controller also reconciles on its timer, so a missing controller is not fatal.
    if (since(WORKER_POKES)) {
      // Waited for: these pokes come last, and a local activity still pending when the workflow
      // completes is dropped.
      try {
        ActivityStubs.localPokes().pokeCapacity(why);
      } catch (ActivityFailure e) {
        log.warn("poke '{}' of the capacity controller failed: {}", why, reasonOf(e));
      }
    } else {
      signalCapacity("poke", why);
    }
  }

  /**
   * Whether this run has {@code change}: {@value #CHANGES_2026_12B}, {@value #CHANGES_2026_12} or v1 of
   * the change's own marker, asked in that order (a run records the first that it has).
   */
  private boolean since(String change) {
    if (hasChangesB()) {
      return true;
    }
    if (changes202612 == null) {
      changes202612 = Workflow.getVersion(CHANGES_2026_12, Workflow.DEFAULT_VERSION, 1) == 1;
    }
    return changes202612 || Workflow.getVersion(change, Workflow.DEFAULT_VERSION, 1) == 1;
  }

  private boolean hasChangesB() {
    return changesB() != Workflow.DEFAULT_VERSION;
  }

  private int changesB() {
    if (changesB == null) {
      changesB = Workflow.getVersion(CHANGES_2026_12B, Workflow.DEFAULT_VERSION, placesInTask() ? 2 : 1);
    }
    return changesB;
  }

  /** Asynchronous so that a missing controller fails only its own promise, not this workflow. */
  private static void signalCapacity(String signal, Object arg) {
    Async.procedure(() -> Workflow.newUntypedExternalWorkflowStub(CapacityWorkflow.ID).signal(signal, arg));
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
