package io.berth.api.workspaces;

import io.berth.api.Temporal;
import io.berth.api.errors.ApiException;
import io.berth.workflows.Labels;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.Placement;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.pools.Pools;
import io.micronaut.core.annotation.Nullable;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.UpdateOptions;
import io.temporal.client.WithStartWorkflowOperation;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's side of WorkspaceWorkflow: allocate (Update-With-Start), view, extend, release,
 * heartbeat. Blocking calls: run them off the event loop. Errors come out as {@link ApiException}.
 */
@Singleton
public class WorkspaceWorkflows {
  /** NOT_FOUND right after a run closes or continues as new (test server): worth a few quick retries. */
  static final int NOT_FOUND_ATTEMPTS = 4;
  static final Duration RETRY_AFTER = Duration.ofSeconds(5);
  /** The workflow answers at the allocate wait after its handler starts: room for that answer to arrive first. */
  static final Duration CLIENT_GRACE = Duration.ofSeconds(1);
  /** How long a POST past its deadline waits for the run's current view. */
  static final Duration VIEW_BOUND = Duration.ofSeconds(1);
  /** Caller threads: one per allocation call in flight (the request thread waits on it, bounded). */
  static final int MAX_CALLERS = 256;
  private static final Logger log = LoggerFactory.getLogger(WorkspaceWorkflows.class);

  private final WorkflowClient client;
  private final WorkspaceSettings settings;
  private final Placement placement;
  /** Whose controller a workspace signals; null: every workspace signals {@code capacity}. */
  private final Pools pools;
  private final ExecutorService callers;

  /** Placement in the workflow task: a local fleet's worker with a workflow cache; one pool. */
  public WorkspaceWorkflows(WorkflowClient client, WorkspaceSettings settings) {
    this(client, settings, new PlacementSettings("in-task", "local", null), null);
  }

  @Inject
  public WorkspaceWorkflows(WorkflowClient client, WorkspaceSettings settings, PlacementSettings placement,
                            @Nullable Pools pools) {
    this.client = client;
    this.settings = settings;
    this.placement = placement.placement();
    this.pools = pools;
    AtomicInteger n = new AtomicInteger();
    this.callers = new ThreadPoolExecutor(0, MAX_CALLERS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "allocate-call-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  public WorkflowClient client() {
    return client;
  }

  /**
   * Allocates the user's workspace or returns the one they have, within the allocate wait (plus
   * {@link #CLIENT_GRACE}) whatever Temporal does: the workflow's own bound starts only when its
   * update handler runs, i.e. once a workflow task does, which an overloaded worker may delay for
   * minutes. Past the bound the answer is the current view (ALLOCATING when even that is not to be
   * had), and the allocation goes on: the caller polls {@code /api/workspaces/me}. When their
   * previous run is still tearing down, waits (within the same bound) for it to end and asks once more.
   */
  public WorkspaceView allocate(String user, String template) {
    return allocate(user, template, () -> {});
  }

  /**
   * As {@link #allocate(String, String)}; {@code beforeRetry} runs between the previous run's end
   * and the second ask (the per-user limit reserves the place again that the teardown freed).
   */
  public WorkspaceView allocate(String user, String template, Runnable beforeRetry) {
    long deadline = System.nanoTime() + settings.allocateWait().plus(CLIENT_GRACE).toNanos();
    WorkspaceView view = updateWithStart(user, template, deadline);
    if (!tearingDown(view)) {
      return view;
    }
    awaitRunEnd(user, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    beforeRetry.run();
    view = updateWithStart(user, template, deadline);
    if (tearingDown(view)) {
      throw ApiException.conflict("your previous workspace is still being released; try again shortly");
    }
    return view;
  }

  public WorkspaceView view(String user) {
    WorkspaceView view = call(user, () -> stub(user).view());
    if (view == null || view.state() == WorkspaceState.RELEASED) {
      throw ApiException.notFound("you have no workspace");
    }
    if (view.state() == WorkspaceState.FAILED) {
      throw ApiException.notFound("you have no workspace; the last allocation failed: " + view.reason());
    }
    return view;
  }

  /**
   * The latest run's view whatever its state, FAILED and RELEASED included (what a progress stream
   * must see to end); empty when there is no run (or, for a moment, right after one continued as new).
   */
  public Optional<WorkspaceView> latest(String user) {
    try {
      return Optional.ofNullable(stub(user).view());
    } catch (RuntimeException e) {
      if (Temporal.notFound(e)) {
        return Optional.empty();
      }
      throw translate(e, "the workspace query");
    }
  }

  public WorkspaceView extend(String user, long seconds) {
    return call(user, () -> stub(user).extend(seconds));
  }

  public void release(String user, String reason) {
    call(user, () -> {
      stub(user).release(reason);
      return null;
    });
  }

  /** The current run's history, rendered without payloads. */
  public java.util.List<HistoryEvents.Event> history(String user) {
    return call(user, () -> HistoryEvents.render(client.fetchHistory(WorkspaceWorkflow.idFor(user)).getEvents()));
  }

  /**
   * Activity at {@code atMillis}: the workflow counts the idle timeout from then, however late the
   * signal arrives. Fire-and-forget callers log the failure; nothing here is shown to the workspace.
   */
  public void beat(String user, long atMillis) {
    stub(user).beat(atMillis);
  }

  /** A run of {@code template} that signals the controller of that template's pool. */
  public WorkspaceParams params(String user, String template) {
    String label = Labels.labelFor(user);
    return new WorkspaceParams(user, label, settings.hostnameFor(label), settings.urlFor(label), template,
        settings.idleTimeout(), settings.maxLifetime(), settings.coldStartTimeout(), settings.allocateWait(), null,
        settings.reclaimLead(), placement).withCapacityId(pools == null ? null : pools.controllerId(template));
  }

  /**
   * Update-With-Start (USE_EXISTING: one run per user however many ask) on a caller thread, waited
   * for until the deadline. A call still running then is left to finish on its own (it starts or
   * reaches the run the user asked for, and the workflow's own bound ends it); the answer is the
   * run's current view.
   */
  private WorkspaceView updateWithStart(String user, String template, long deadline) {
    Future<WorkspaceView> call = onCaller(() -> executeUpdateWithStart(user, template));
    try {
      return call.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      log.info("allocate for {} not answered within the allocate wait; answering with the current view", user);
      return currentView(user, template);
    } catch (ExecutionException e) {
      throw translate(unwrap(e), "allocation");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", RETRY_AFTER);
    }
  }

  private WorkspaceView executeUpdateWithStart(String user, String template) {
    WorkspaceParams params = params(user, template);
    AllocateRequest request = new AllocateRequest(user, template);
    for (int attempt = 1; ; attempt++) {
      // A stub and its start operation serve one call only: build them afresh for every attempt.
      WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(WorkspaceWorkflow.idFor(user))
          .setTaskQueue(TaskQueues.BERTH)
          .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
          .build());
      try {
        return WorkflowClient.executeUpdateWithStart(stub::allocate, request,
            UpdateOptions.<WorkspaceView>newBuilder().build(), new WithStartWorkflowOperation<>(stub::run, params));
      } catch (RuntimeException e) {
        if (Temporal.notFound(e) && attempt < NOT_FOUND_ATTEMPTS) {
          log.debug("allocate for {} met NOT_FOUND (attempt {}), retrying", user, attempt);
          pause(25L << attempt);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * What the caller is shown when the allocation is not settled by the deadline: the live run's
   * view if a query answers within {@link #VIEW_BOUND}, else ALLOCATING with no steps yet. A
   * closed run's view (the user's previous workspace, FAILED or RELEASED) is not theirs any more:
   * their start is still on its way.
   */
  private WorkspaceView currentView(String user, String template) {
    try {
      WorkspaceView v = onCaller(() -> stub(user).view()).get(VIEW_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      if (v != null && (v.state() == WorkspaceState.ALLOCATING || v.state() == WorkspaceState.PROVISIONING
          || v.state() == WorkspaceState.READY)) {
        return v;
      }
    } catch (TimeoutException | ExecutionException | ApiException e) {
      log.debug("no view of {} within {}: {}", user, VIEW_BOUND, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String label = Labels.labelFor(user);
    return new WorkspaceView(user, null, WorkspaceState.ALLOCATING, settings.urlFor(label), null, null, template,
        settings.idleTimeout().toSeconds(), 0, 0, 0, null, List.of());
  }

  /** Runs a blocking Temporal call on a caller thread, so that the request thread can stop waiting for it. */
  private <T> Future<T> onCaller(Callable<T> call) {
    try {
      return callers.submit(call);
    } catch (RejectedExecutionException e) {
      throw ApiException.unavailable("too many allocations waiting for the workflow service", RETRY_AFTER);
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    return e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
  }

  @PreDestroy
  void stop() {
    callers.shutdown();
  }

  private void awaitRunEnd(String user, Duration bound) {
    try {
      untyped(user).getResult(bound.toMillis(), TimeUnit.MILLISECONDS, WorkspaceView.class);
    } catch (TimeoutException e) {
      throw ApiException.conflict("your previous workspace is still being released; try again shortly");
    } catch (WorkflowException e) {
      // The run ended some other way (failed, terminated, continued): either way it is over.
      log.debug("previous run of {} ended with {}", user, e.getClass().getSimpleName());
    } catch (RuntimeException e) {
      if (!Temporal.notFound(e)) {
        throw translate(e, "allocation");
      }
    }
  }

  private <T> T call(String user, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      if (Temporal.notFound(e)) {
        throw ApiException.notFound("you have no workspace");
      }
      throw translate(e, "the workspace call");
    }
  }

  public static ApiException translate(RuntimeException e, String what) {
    if (e instanceof ApiException api) {
      return api;
    }
    if (Temporal.unreachable(e)) {
      log.warn("{} failed: Temporal unreachable: {}", what, e.toString());
      return ApiException.unavailable("the workflow service is unavailable", RETRY_AFTER);
    }
    log.warn("{} failed", what, e);
    return ApiException.unavailable(what + " failed", RETRY_AFTER);
  }

  private WorkspaceWorkflow stub(String user) {
    return client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user));
  }

  private WorkflowStub untyped(String user) {
    return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user), Optional.empty(), Optional.empty());
  }

  private static boolean tearingDown(WorkspaceView v) {
    return v != null && (v.state() == WorkspaceState.RELEASING || v.state() == WorkspaceState.RELEASED);
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", RETRY_AFTER);
    }
  }
}
