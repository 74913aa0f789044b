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
import io.temporal.workflow.Saga;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

public class WorkspaceWorkflowImpl implements WorkspaceWorkflow {
  /** Continue-as-new well before Temporal's 10,240-event warning. */
  static final int HISTORY_LIMIT = 4_000;
  private static final Logger log = Workflow.getLogger(WorkspaceWorkflowImpl.class);

  private final WorkspaceParams params;
  private final List<ProgressStep> steps = new ArrayList<>();
  private final StoreActivities store = ActivityStubs.store(false);
  private final FleetActivities fleet = ActivityStubs.fleet(false);
  private final DnsActivities dns = ActivityStubs.dns(false);
  private final RouteActivities routes = ActivityStubs.routes(false);
  private final ProbeActivities probe = ActivityStubs.probeUntilReady();

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
  private String noCapacityReason;
  private boolean resyncWanted;
  /** Bumped by heartbeats and extends so the active loop re-arms its timer. */
  private int touches;

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
    Saga saga = new Saga(new Saga.Options.Builder().setContinueWithError(true).build());
    try {
      saga.addCompensation(() -> {
        compensating("claim");
        store.unclaim(requestId, slotBroken);
      });
      slot = claimSlot();
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

      step("session", "running", null);
      allocatedAt = Workflow.currentTimeMillis();
      expiresAt = allocatedAt + params.maxLifetime().toMillis();
      idleDeadline = Math.min(allocatedAt + idleMillis(), expiresAt);
      saga.addCompensation(() -> {
        compensating("session");
        store.deleteSession(params.user(), workspaceId);
      });
      store.storeSession(session());

      setState(WorkspaceState.READY);
      step("ready", "done", params.url());
      pokeCapacity("allocated");
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

  /** A warm spare if there is one; otherwise the cold path, bounded by the cold-start timeout. */
  private Slot claimSlot() {
    step("claim", "running", params.template());
    ClaimRequest claim = new ClaimRequest(requestId, params.user(), params.template());
    Slot claimed = store.claimSpare(claim);
    if (claimed != null) {
      step("claim", "done", claimed.slotId());
      return claimed;
    }
    setState(WorkspaceState.PROVISIONING);
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
        claimed = store.claimSpare(claim);
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
    while (true) {
      long now = Workflow.currentTimeMillis();
      if (releaseReason != null) {
        reason = releaseReason;
        return;
      }
      if (now >= expiresAt) {
        reason = "max lifetime reached";
        return;
      }
      if (now >= idleDeadline) {
        // Heartbeats inside a coalescing window reach Redis but not this workflow: ask before reclaiming.
        long last = store.lastActivity(params.user());
        if (last + idleMillis() > now) {
          idleDeadline = Math.min(last + idleMillis(), expiresAt);
          continue;
        }
        reason = "idle";
        return;
      }
      if (resyncWanted) {
        resyncWanted = false;
        store.storeSession(session());
        continue;
      }
      int seen = touches;
      Workflow.await(Duration.ofMillis(Math.min(idleDeadline, expiresAt) - now),
          () -> touches != seen || releaseReason != null || resyncWanted);
      if (Workflow.getInfo().getHistoryLength() > HISTORY_LIMIT || Workflow.getInfo().isContinueAsNewSuggested()) {
        Workflow.await(Workflow::isEveryHandlerFinished);
        Workflow.continueAsNew(params.withResume(
            new ActiveWorkspace(requestId, workspaceId, slot, allocatedAt, idleDeadline, expiresAt)));
      }
    }
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
    boolean recycleFirst = Workflow.getVersion("teardown-recycle-first", Workflow.DEFAULT_VERSION, 1) == 1;
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

  @Override
  public WorkspaceView allocate(AllocateRequest request) {
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

  @Override
  public WorkspaceView extend(long seconds) {
    if (state == WorkspaceState.READY) {
      long wanted = Workflow.currentTimeMillis() + Math.max(1, seconds) * 1000;
      idleDeadline = Math.min(Math.max(idleDeadline, wanted), expiresAt);
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
    signalCapacity("poke", why);
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
