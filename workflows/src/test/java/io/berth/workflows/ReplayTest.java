package io.berth.workflows;

import io.temporal.testing.WorkflowReplayer;
import java.io.File;
import org.junit.jupiter.api.Test;

/**
 * Replays a history recorded from an earlier version (allocate → extend → release). A change to
 * the workflow code that running workflows would not replay must fail here: guard it with
 * {@code Workflow.getVersion}, then record a new history next to this one.
 */
class ReplayTest {
  @Test
  void recordedAllocateExtendReleaseHistoryStillReplays() throws Exception {
    File history = new File(getClass().getResource("/histories/workspace-allocate-release-v1.json").toURI());
    WorkflowReplayer.replayWorkflowExecution(history, WorkspaceWorkflowImpl.class);
  }
}
