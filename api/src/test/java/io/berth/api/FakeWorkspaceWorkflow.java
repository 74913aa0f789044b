package io.berth.api;

import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test stand-in for the real workflow, no activities: users named {@code fail-*} fail, {@code slow-*}
 * stay PROVISIONING, {@code stall-*} hold their first workflow task for {@link #STALL} (an
 * overloaded worker: the update is accepted only after it), everyone else is READY after a short saga. Each heartbeat signal adds a
 * "heartbeat" step, so tests count signals through the view query. workspaceId = run id.
 */
public class FakeWorkspaceWorkflow implements WorkspaceWorkflow {
  static final Duration SAGA = Duration.ofMillis(200);
  static final Duration TEARDOWN = Duration.ofMillis(300);
  static final Duration STALL = Duration.ofSeconds(7);

  private final WorkspaceParams params;
  private final List<ProgressStep> steps = new ArrayList<>();
  private WorkspaceState state = WorkspaceState.ALLOCATING;
  private String reason;
  private boolean released;
  private long allocatedAt;
  private long idleDeadline;
  private long expiresAt;

  @WorkflowInit
  public FakeWorkspaceWorkflow(WorkspaceParams params) {
    this.params = params;
  }

  @Override
  public WorkspaceView run(WorkspaceParams ignored) {
    if (params.user().startsWith("stall-") && !Workflow.isReplaying()) {
      stallTheWorkflowTask();
    }
    step("claim");
    if (params.user().startsWith("fail-")) {
      Workflow.sleep(Duration.ofMillis(50));
      reason = "no capacity (test)";
      state = WorkspaceState.FAILED;
      return view();
    }
    if (params.user().startsWith("slow-")) {
      state = WorkspaceState.PROVISIONING;
      Workflow.await(() -> released);
    } else {
      Workflow.sleep(SAGA);
      allocatedAt = Workflow.currentTimeMillis();
      expiresAt = allocatedAt + params.maxLifetime().toMillis();
      idleDeadline = allocatedAt + params.idleTimeout().toMillis();
      state = WorkspaceState.READY;
      step("ready");
      Workflow.await(() -> released);
    }
    state = WorkspaceState.RELEASING;
    Workflow.sleep(TEARDOWN);
    state = WorkspaceState.RELEASED;
    return view();
  }

  @Override
  public WorkspaceView allocate(AllocateRequest request) {
    Workflow.await(params.allocateWait(), () -> state.settled() || released);
    return view();
  }

  @Override
  public void heartbeat() {
    step("heartbeat");
  }

  /** Counted like {@link #heartbeat()}; the step's detail carries the beat's time. */
  @Override
  public void beat(long atMillis) {
    steps.add(new ProgressStep("heartbeat", "done", Workflow.currentTimeMillis(), String.valueOf(atMillis)));
  }

  @Override
  public WorkspaceView extend(long seconds) {
    if (state == WorkspaceState.READY && !released) {
      idleDeadline = Math.min(Workflow.currentTimeMillis() + seconds * 1000, expiresAt);
    }
    return view();
  }

  @Override
  public void release(String why) {
    released = true;
    reason = "released by " + why;
  }

  @Override
  public void noCapacity(String reason) {}

  @Override
  public void resync() {}

  @Override
  public void spareAvailable() {}

  /** A released run reports RELEASING at once, as the real one should: it is no longer the user's workspace. */
  @Override
  public WorkspaceView view() {
    WorkspaceState shown = released && state == WorkspaceState.READY ? WorkspaceState.RELEASING : state;
    boolean placed = allocatedAt > 0;
    return new WorkspaceView(params.user(), Workflow.getInfo().getRunId(), shown, params.url(),
        placed ? "host-1" : null, placed ? "host-1/0" : null, params.template(), params.idleTimeout().toSeconds(),
        allocatedAt, idleDeadline, expiresAt, reason, List.copyOf(steps));
  }

  /** Blocks the workflow thread on purpose: no command, so replay is unaffected (TestStack raises the deadlock bound). */
  private static void stallTheWorkflowTask() {
    try {
      Thread.sleep(STALL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void step(String name) {
    steps.add(new ProgressStep(name, "done", Workflow.currentTimeMillis(), null));
  }
}
