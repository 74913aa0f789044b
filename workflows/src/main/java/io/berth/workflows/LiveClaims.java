package io.berth.workflows;

import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.model.ClaimedSlot;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a claim's workspace workflow still runs, from the Temporal client. A workflow only learns
 * of another's death by a failed signal, and every signal a workspace workflow takes changes it;
 * a describe changes nothing. A run that continued as new keeps its claim, and its id: still running.
 */
public final class LiveClaims implements ClaimActivities {
  private final WorkflowClient client;

  public LiveClaims(WorkflowClient client) {
    this.client = client;
  }

  @Override
  public List<String> deadClaims(List<ClaimedSlot> claims) {
    List<String> dead = new ArrayList<>();
    for (ClaimedSlot c : claims) {
      if (!Labels.validKey(c.user())) {
        continue;
      }
      try {
        WorkflowExecutionStatus status = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(c.user()))
            .describe().getStatus();
        if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          dead.add(c.requestId());
        }
      } catch (WorkflowNotFoundException gone) {
        dead.add(c.requestId());
      }
    }
    return dead;
  }
}
