package io.berth.workflows;

import io.berth.workflows.model.AllocateRequest;
import io.berth.workflows.model.WorkspaceParams;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.UpdateOptions;
import io.temporal.client.WithStartWorkflowOperation;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;

/**
 * Workspace workflows on a test environment with in-memory outside systems ({@link FakeActivities},
 * one spare {@code h-1/0}, and {@link FakeReclaim}), started the way the API starts them.
 */
final class WorkspaceRuns implements AutoCloseable {
  final TestWorkflowEnvironment env;
  final WorkflowClient client;
  final FakeActivities fakes = new FakeActivities().withSpare("h-1/0");
  final FakeReclaim reclaim;

  WorkspaceRuns(TestWorkflowEnvironment env) {
    this.env = env;
    SearchAttributes.ALL.forEach(k -> env.registerSearchAttribute(k.getName(), k.getValueType()));
    Worker worker = env.newWorker(TaskQueues.BERTH);
    worker.registerWorkflowImplementationTypes(WorkspaceWorkflowImpl.class);
    reclaim = new FakeReclaim(env, fakes);
    worker.registerActivitiesImplementations(fakes, reclaim, new SessionThenPoke(fakes, fakes));
    env.start();
    client = env.getWorkflowClient();
  }

  /** Update-With-Start of {@code allocate}, as the API does it. */
  WorkspaceView allocate(WorkspaceParams params) {
    WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(params.user()))
        .setTaskQueue(TaskQueues.BERTH)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build());
    return WorkflowClient.executeUpdateWithStart(stub::allocate, new AllocateRequest(params.user(), "demo"),
        UpdateOptions.<WorkspaceView>newBuilder().build(), new WithStartWorkflowOperation<>(stub::run, params));
  }

  WorkspaceWorkflow workflow(String user) {
    return client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user));
  }

  WorkspaceView result(String user) {
    return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).getResult(WorkspaceView.class);
  }

  @Override
  public void close() {
    env.close();
  }
}
