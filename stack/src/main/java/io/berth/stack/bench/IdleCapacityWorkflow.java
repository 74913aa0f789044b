package io.berth.stack.bench;

import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.List;

/**
 * BENCH-ONLY stand-in for the capacity controller in the {@code memory} scenario: it accepts the
 * workspaces' pokes and does nothing, so the heap measured is the workspaces', not the
 * controller's (whose payloads at 10,000 slots are priced separately).
 */
public class IdleCapacityWorkflow implements CapacityWorkflow {
  @Override
  public void run(CapacityParams params) {
    Workflow.await(Duration.ofDays(1), () -> false);
  }

  @Override
  public void poke(String reason) {
  }

  @Override
  public void needCapacity(CapacityRequest request) {
  }

  @Override
  public void cancelNeed(String workspaceWorkflowId) {
  }

  @Override
  public void reconfigure(CapacityParams params) {
  }

  @Override
  public CapacityStatus status() {
    return new CapacityStatus(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of(), List.of());
  }
}
