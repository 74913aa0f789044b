package io.berth.api;

import io.berth.workflows.Labels;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.UpdateOptions;
import io.temporal.client.WithStartWorkflowOperation;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
  private static final Logger log = LoggerFactory.getLogger(WorkspaceWorkflows.class);

  private final WorkflowClient client;
  private final WorkspaceSettings settings;

  public WorkspaceWorkflows(WorkflowClient client, WorkspaceSettings settings) {
    this.client = client;
    this.settings = settings;
  }

  /**
   * Allocates the user's workspace or returns the one they have. When their previous run is
   * still tearing down, waits (bounded by the allocate wait) for it to finish and asks once more.
   */
  WorkflowClient client() {
    return client;
  }

  public WorkspaceView allocate(String user, String template) {
    WorkspaceView view = updateWithStart(user, template);
    if (!tearingDown(view)) {
      return view;
    }
    awaitRunEnd(user, settings.allocateWait());
    view = updateWithStart(user, template);
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
      untyped(user).signal("release", reason);
      return null;
    });
  }

  /** The current run's history, rendered without payloads. */
  public java.util.List<HistoryEvents.Event> history(String user) {
    return call(user, () -> HistoryEvents.render(client.fetchHistory(WorkspaceWorkflow.idFor(user)).getEvents()));
  }

  /** Fire-and-forget callers log the failure; nothing here is shown to the workspace. */
  public void heartbeat(String user) {
    untyped(user).signal("heartbeat");
  }

  WorkspaceParams params(String user, String template) {
    String label = Labels.labelFor(user);
    return new WorkspaceParams(user, label, settings.hostnameFor(label), settings.urlFor(label), template,
        settings.idleTimeout(), settings.maxLifetime(), settings.coldStartTimeout(), settings.allocateWait(), null);
  }

  private WorkspaceView updateWithStart(String user, String template) {
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
        throw translate(e, "allocation");
      }
    }
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

  static ApiException translate(RuntimeException e, String what) {
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
