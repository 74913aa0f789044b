package io.berth.workflows;

import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowStub;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a claim's workspace workflow still runs, from the Temporal client. A workflow only learns
 * of another's death by a failed signal, and every signal a workspace workflow takes changes it;
 * a describe and a query change nothing. A run that continued as new keeps its claim, and its id.
 */
public final class LiveClaims implements ClaimActivities {
  private static final Logger log = LoggerFactory.getLogger(LiveClaims.class);
  private final WorkflowClient client;

  public LiveClaims(WorkflowClient client) {
    this.client = client;
  }

  @Override
  public List<String> deadClaims(List<ClaimedSlot> claims) {
    List<String> dead = new ArrayList<>();
    for (ClaimedSlot c : claims) {
      if (Labels.validKey(c.user()) && dead(c)) {
        dead.add(c.requestId());
      }
    }
    return dead;
  }

  /**
   * No workflow runs for the claim's user, or the one that runs holds another slot: a run holds one
   * claim, and its view names that claim's slot from the claim on (none while it fails: then the
   * claim counts as live, its undo may be under way).
   */
  private boolean dead(ClaimedSlot c) {
    WorkflowStub stub = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(c.user()));
    try {
      if (stub.describe().getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        return true;
      }
    } catch (WorkflowNotFoundException gone) {
      return true;
    }
    try {
      WorkspaceView v = stub.query("view", WorkspaceView.class);
      return v != null && v.slotId() != null && !v.slotId().equals(c.slotId());
    } catch (RuntimeException unanswered) {
      log.info("claim {} on {}: {}'s running workflow did not answer ({}); taken as live", c.requestId(),
          c.slotId(), c.user(), unanswered.toString());
      return false;
    }
  }
}
