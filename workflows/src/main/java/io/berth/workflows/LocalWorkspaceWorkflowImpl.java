package io.berth.workflows;

import io.berth.workflows.model.WorkspaceParams;
import io.temporal.workflow.WorkflowInit;

/**
 * The workspace workflow on a worker whose fleet is the local one and whose DNS is a no-op: the
 * probe, tag, protect, DNS and route steps are Redis writes and loopback calls of milliseconds, so
 * they run as local activities inside the workflow task that claimed the slot (version 2 of
 * {@value WorkspaceWorkflowImpl#CHANGES_2026_12B}; {@value WorkspaceWorkflowImpl#IN_TASK_PLACEMENT}
 * in runs from before it). A warm allocation is then one workflow task
 * from the claim to READY. Cloud providers keep them regular activities (their calls are slower,
 * throttled and retried for longer). Every worker polling one task queue must register the same
 * class: the choice is part of the workflow's code, replayed as such.
 */
public class LocalWorkspaceWorkflowImpl extends WorkspaceWorkflowImpl {
  @WorkflowInit
  public LocalWorkspaceWorkflowImpl(WorkspaceParams params) {
    super(params);
  }

  @Override
  protected boolean placesInTask() {
    return true;
  }
}
