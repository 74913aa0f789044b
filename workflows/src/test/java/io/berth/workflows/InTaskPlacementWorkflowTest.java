package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.Placement;
import io.berth.workflows.model.WorkspaceState;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Every workspace workflow test again, with the placement steps as local activities in the claim's
 * workflow task (the local fleet's worker): saga order, compensations, probe failures and cancellation must not change.
 */
class InTaskPlacementWorkflowTest extends WorkspaceWorkflowTest {
  @Override
  Placement placement() {
    return Placement.IN_TASK;
  }

  @Test
  void aWarmAllocationIsOneWorkflowTaskFromClaimToSession() {
    assertEquals(WorkspaceState.READY, allocate(defaults("uma")).state());
    List<HistoryEvent> events = history("uma");
    List<Integer> steps = IntStream.range(0, events.size())
        .filter(i -> HistorySteps.activityType(events.get(i)).isPresent()).boxed().toList();
    List<String> types = steps.stream().map(i -> HistorySteps.localActivityType(events.get(i)).orElse("regular:"
        + HistorySteps.activityType(events.get(i)).orElseThrow())).toList();
    assertEquals(7, types.subList(0, 7).stream().filter(t -> !t.startsWith("regular:")).count(),
        "claim, five placement steps and session all local: " + types);
    assertTrue(events.subList(steps.get(0), steps.get(6)).stream()
        .noneMatch(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
        "one workflow task from the claim to the session");
    int answered = IntStream.range(0, events.size())
        .filter(i -> events.get(i).getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
        .findFirst().orElseThrow();
    assertEquals(1, events.subList(0, answered).stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).count(),
        "the update answered by the first workflow task");
  }
}
