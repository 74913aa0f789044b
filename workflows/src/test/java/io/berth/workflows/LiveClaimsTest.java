package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which claims' workflows are gone, asked of a real (test) Temporal server. */
class LiveClaimsTest {
  private final TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();

  /** Stands in for a workspace workflow: runs until stopped, and its view names the slot it holds (or none). */
  @WorkflowInterface
  public interface Holder {
    @WorkflowMethod
    void hold(String user, String slotId);

    @QueryMethod(name = "view")
    WorkspaceView view();
  }

  public static class HolderImpl implements Holder {
    private String user;
    private String slotId;

    @Override
    public void hold(String user, String slotId) {
      this.user = user;
      this.slotId = slotId.isEmpty() ? null : slotId;
      Workflow.await(() -> false);
    }

    @Override
    public WorkspaceView view() {
      return new WorkspaceView(user, "w", null, null, null, slotId, "demo", 0, 0, 0, 0, null, List.of());
    }
  }

  @AfterEach
  void stop() {
    env.close();
  }

  @Test
  void aClaimIsDeadWhenNoWorkflowRunsForItsUserOrTheOneThatRunsHoldsAnotherSlot() {
    Worker worker = env.newWorker(TaskQueues.BERTH);
    worker.registerWorkflowImplementationTypes(HolderImpl.class);
    env.start();
    WorkflowClient client = env.getWorkflowClient();
    hold(client, "ada", "h-1/0");
    hold(client, "bea", "");
    hold(client, "dan", "h-9/0");
    hold(client, "done", "h-1/0");
    client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor("done")).terminate("test");

    List<String> dead = new LiveClaims(client).deadClaims(List.of(claim("ada"), claim("bea"), claim("dan"),
        claim("done"), claim("never"), claim("line\nbreak"), claim(null)));
    // ada's run holds the slot; bea's has claimed nothing yet (or is failing): both live.
    assertEquals(List.of("req-dan", "req-done", "req-never"), dead);
  }

  private static void hold(WorkflowClient client, String user, String slotId) {
    Holder h = client.newWorkflowStub(Holder.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(user)).setTaskQueue(TaskQueues.BERTH).build());
    WorkflowClient.start(h::hold, user, slotId);
  }

  private static ClaimedSlot claim(String user) {
    return new ClaimedSlot("h-1/0", "req-" + user, user);
  }
}
