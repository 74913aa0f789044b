package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.workflows.model.ClaimedSlot;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which claims' workflows are gone, asked of a real (test) Temporal server. */
class LiveClaimsTest {
  private final TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();

  @AfterEach
  void stop() {
    env.close();
  }

  @Test
  void onlyClaimsWhoseUserHasNoRunningWorkflowAreDead() {
    Worker worker = env.newWorker(TaskQueues.BERTH);
    // Any workflow under a workspace's id will do: the check asks by id. The controller runs until stopped.
    worker.registerWorkflowImplementationTypes(CapacityWorkflowImpl.class);
    worker.registerActivitiesImplementations(new CapacityFakes(1, 2, 0));
    env.start();
    WorkflowClient client = env.getWorkflowClient();
    for (String user : List.of("ada", "done")) {
      CapacityWorkflow wf = client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(WorkspaceWorkflow.idFor(user)).setTaskQueue(TaskQueues.BERTH).build());
      WorkflowClient.start(wf::run, CapacityWorkflowTest.params(0, 0, 2, 1, 1));
    }
    client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor("done")).terminate("test");

    List<String> dead = new LiveClaims(client).deadClaims(List.of(claim("ada"), claim("done"), claim("never"),
        claim("line\nbreak"), claim(null)));
    assertEquals(List.of("req-done", "req-never"), dead);
  }

  private static ClaimedSlot claim(String user) {
    return new ClaimedSlot("h-1/0", "req-" + user, user);
  }
}
