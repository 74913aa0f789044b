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
 * Replays the controller's recorded histories: a change to its command sequence that a running
 * controller would not replay must fail here. Recorded by {@link CapacityWorkflowTest} with
 * {@code -Dberth.recordCapacityHistories=<dir>}:
 * <ul>
 *   <li>passes: onboarding, a scale-out, a dead spare replaced, a waiter woken;</li>
 *   <li>protect-owned: an owned host found unprotected, protected again an interval later;</li>
 *   <li>orphan: an owner tag without a workflow, the slot given back with its claim dropped;</li>
 *   <li>dead-claims: a claim whose workflow is gone undone, a live one kept;</li>
 *   <li>left-behind: a slot a lost run left tagged given back;</li>
 *   <li>failed-action: a recycle that fails every attempt while the rest of its pass runs;</li>
 *   <li>continue-as-new: a run that ends in continue-as-new with a waiter and decisions.</li>
 * </ul>
 * and, from {@code SpareRulesWorkflowTest}, runs with the {@code template-pools} marker (version 1):
 * <ul>
 *   <li>schedule: a template's pool whose target follows a schedule across its start and end;</li>
 *   <li>demand: a burst of misses raising the target, in a run that continues as new.</li>
 * </ul>
 */
class CapacityReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {"capacity-passes.json", "capacity-protect-owned.json", "capacity-orphan.json",
      "capacity-dead-claims.json", "capacity-left-behind.json", "capacity-failed-action.json",
      "capacity-continue-as-new.json", "capacity-schedule.json", "capacity-demand.json"})
  void recordedControllerHistoryReplays(String name) throws Exception {
    Path file = Path.of(getClass().getResource("/histories/" + name).toURI());
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      // A loaded 2-core machine can stall a cold replay past the 1 s deadlock detector: that is not
      // the non-determinism this test is about.
      Worker worker = env.newWorker(TaskQueues.BERTH,
          WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
      worker.registerWorkflowImplementationTypes(CapacityWorkflowImpl.class);
      worker.replayWorkflowExecution(history);
    }
  }
}
