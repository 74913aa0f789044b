package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.StagedSaga.Step;
import io.berth.workflows.model.WorkspaceParams;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.WorkflowInit;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replays the workspace histories recorded from the 1.0 workflow ({@link WorkspaceHistoriesTest}):
 * a change to the workflow code that running workflows would not replay fails here. Guard such a
 * change with {@code Workflow.getVersion} and record new histories next to these
 * (docs/ARCHITECTURE.md, "Changing workflow code"). {@code cold-capacity-id} is a cold allocation
 * under the {@code template-pools} marker (version 1), asking its own template's controller.
 */
class ReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {"release", "release-in-task", "cold", "rollback", "idle-reclaim", "continue-as-new",
      "resumed-release", "cold-capacity-id"})
  void recordedHistoryReplays(String name) throws Exception {
    replay(name, WorkspaceWorkflowImpl.class);
  }

  /** The check works: the same history on code whose placement steps start in another order is refused. */
  @Test
  void aChangedStepOrderIsNonDeterministic() {
    Exception e = assertThrows(Exception.class, () -> replay("release", ReorderedPlacement.class));
    boolean named = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      named |= String.valueOf(t).contains("NonDeterministic") || String.valueOf(t).contains("nondeterministic");
    }
    assertTrue(named, () -> "not a non-determinism error: " + e);
  }

  /** The 1.0 workflow with its placement steps started in reverse order. */
  public static class ReorderedPlacement extends WorkspaceWorkflowImpl {
    @WorkflowInit
    public ReorderedPlacement(WorkspaceParams params) {
      super(params);
    }

    @Override
    List<List<Step>> allocationSaga(PlacementStubs at) {
      List<List<Step>> stages = new ArrayList<>(super.allocationSaga(at));
      List<Step> placement = new ArrayList<>(stages.get(1));
      Collections.reverse(placement);
      stages.set(1, placement);
      return stages;
    }
  }

  private void replay(String name, Class<? extends WorkspaceWorkflowImpl> implementation) throws Exception {
    String json;
    try (var in = new GZIPInputStream(getClass().getResourceAsStream("/histories/workspace-" + name + ".json.gz"))) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(json);
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
