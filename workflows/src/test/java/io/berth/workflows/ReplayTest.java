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
 * Replays histories recorded from earlier versions. A change to the workflow code that running
 * workflows would not replay must fail here: guard it with {@code Workflow.getVersion}, then record
 * a new history next to these ({@code BERTH_WRITE_HISTORY=<file>} while running
 * {@code WorkspaceWorkflowTest#releaseTearsDownAndExtendPushesTheDeadline}).
 * <ul>
 *   <li>v1: allocate (one step after another) → extend → release, no version markers.</li>
 *   <li>v2: allocate (placement side by side, {@code parallel-saga}) → extend → {@code beat} →
 *       resync with the route ({@code resync-route}) → release ({@code teardown-recycle-first}).</li>
 *   <li>v3: as v2, with the claim and session steps as local activities ({@code local-store-steps}).</li>
 *   <li>v4: as v2, with {@code armed-reclaim} (the extend records its hold in a local activity).</li>
 *   <li>v5: both, {@code local-store-steps} and {@code armed-reclaim}.</li>
 *   <li>v6: as v5, with {@code worker-pokes} (the controller poked by a local activity at the claim
 *       and at the end, no signal from the workflow).</li>
 *   <li>armed-reclaim v3: allocate → armed reclaim kept by activity recorded in its window → armed
 *       again → reclaimed at the deadline → teardown
 *       ({@code WorkspaceWorkflowTest#activityRecordedDuringTheArmedWindowKeepsTheWorkspace}).</li>
 *   <li>local v1: as v5, on {@link LocalWorkspaceWorkflowImpl} ({@code in-task-placement}: the
 *       placement steps as local activities); recorded from {@code LocalWorkspaceWorkflowTest}.</li>
 *   <li>local v2: as local v1, with {@code worker-pokes}.</li>
 *   <li>v7 and local v3: as v6 and local v2, with one {@code changes-2026-12} marker for all of
 *       those changes (local v3 keeps {@code in-task-placement} as its own).</li>
 *   <li>v8 and local v4: one {@code changes-2026-12b} marker (version 1, and 2 for the in-task
 *       placement of the local class), no timer on the warm allocate's answer, and the
 *       session and the controller's poke in one local activity ({@code StoreSessionThenPoke}).</li>
 * </ul>
 * Histories from before {@code in-task-placement} replay on both classes: a local worker running
 * the newer class picks up workflows an older worker started.
 */
class ReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {"workspace-allocate-release-v1.json", "workspace-allocate-release-v2.json",
      "workspace-allocate-release-v3.json", "workspace-allocate-release-v4.json",
      "workspace-allocate-release-v5.json", "workspace-allocate-release-v6.json", "workspace-allocate-release-v7.json",
      "workspace-allocate-release-v8.json", "workspace-armed-reclaim-v3.json"})
  void recordedHistoryStillReplays(String name) throws Exception {
    replay(name, WorkspaceWorkflowImpl.class);
    replay(name, LocalWorkspaceWorkflowImpl.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"workspace-allocate-release-local-v1.json", "workspace-allocate-release-local-v2.json",
      "workspace-allocate-release-local-v3.json", "workspace-allocate-release-local-v4.json"})
  void recordedLocalHistoryStillReplays(String name) throws Exception {
    replay(name, LocalWorkspaceWorkflowImpl.class);
  }

  private void replay(String name, Class<? extends WorkspaceWorkflowImpl> implementation) throws Exception {
    Path file = Path.of(getClass().getResource("/histories/" + name).toURI());
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      // A loaded 2-core machine can stall a cold replay past the 1 s deadlock detector: that is not
      // the non-determinism this test is about.
      Worker worker = env.newWorker(TaskQueues.BERTH,
          WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
      worker.registerWorkflowImplementationTypes(implementation);
      worker.replayWorkflowExecution(history);
    }
  }
}
