package io.berth.workflows;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replays the controller's histories (onboarding, a scale-out, a dead spare replaced, a waiter):
 * running controllers must replay after an upgrade, so changes to its command sequence are guarded
 * by {@code Workflow.getVersion}. v1: before {@code compact-pass}; v2: with it; v3: with
 * {@code spare-probes-due} too; v4: a pass that protects an owned host again ({@code protect-owned});
 * v5: an orphan whose claim is dropped ({@code orphan-claims}); v6: a dead claim undone
 * ({@code dead-claims}); v7: a slot left behind given back ({@code left-behind}). Recorded by
 * {@link CapacityWorkflowTest} with {@code -Dberth.recordCapacityHistory=<file>} (v4:
 * {@code -Dberth.recordProtectHistory}, v5: {@code -Dberth.recordOrphanHistory}, v6:
 * {@code -Dberth.recordDeadClaimsHistory}, v7: {@code -Dberth.recordLeftBehindHistory}).
 */
class CapacityReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {"capacity-passes-v1.json", "capacity-passes-v2.json", "capacity-passes-v3.json",
      "capacity-passes-v4.json", "capacity-passes-v5.json", "capacity-passes-v6.json", "capacity-passes-v7.json"})
  void recordedControllerHistoryStillReplays(String name) throws Exception {
    Path file = Path.of(getClass().getResource("/histories/" + name).toURI());
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker worker = env.newWorker(TaskQueues.BERTH,
          WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
      worker.registerWorkflowImplementationTypes(CapacityWorkflowImpl.class);
      worker.replayWorkflowExecution(history);
    }
  }
}
