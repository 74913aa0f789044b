package io.berth.workflows;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Replays a history recorded from an earlier version (allocate → extend → release). A change to
 * the workflow code that running workflows would not replay must fail here: guard it with
 * {@code Workflow.getVersion}, then record a new history next to this one.
 */
class ReplayTest {
  @Test
  void recordedAllocateExtendReleaseHistoryStillReplays() throws Exception {
    Path file = Path.of(getClass().getResource("/histories/workspace-allocate-release-v1.json").toURI());
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      // A loaded 2-core machine can stall a cold replay past the 1 s deadlock detector: that is not
      // the non-determinism this test is about.
      Worker worker = env.newWorker(TaskQueues.BERTH,
          WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
      worker.registerWorkflowImplementationTypes(WorkspaceWorkflowImpl.class);
      worker.replayWorkflowExecution(history);
    }
  }
}
