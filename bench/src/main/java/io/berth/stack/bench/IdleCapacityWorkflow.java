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
 * controller's (whose payloads at 10,000 slots are priced separately). Every workspace pokes it
 * once when it is allocated, so it continues as new every {@value #SIGNALS_PER_RUN} signals: one
 * run holding 10,000 pokes would pass Temporal's history limits and cost a long replay whenever
 * it leaves the worker's cache.
 */
public class IdleCapacityWorkflow implements CapacityWorkflow {
  static final int SIGNALS_PER_RUN = 500;
  private int signals;

  @Override
  public void run(CapacityParams params) {
    Workflow.await(Duration.ofDays(1), () -> signals >= SIGNALS_PER_RUN);
    if (signals >= SIGNALS_PER_RUN) {
      Workflow.await(Workflow::isEveryHandlerFinished);
      Workflow.continueAsNew(params);
    }
  }

  @Override
  public void poke(String reason) {
    signals++;
  }

  @Override
  public void needCapacity(CapacityRequest request) {
    signals++;
  }

  @Override
  public void cancelNeed(String workspaceWorkflowId) {
    signals++;
  }

  @Override
  public void reconfigure(CapacityParams params) {
    signals++;
  }

  @Override
  public CapacityStatus status() {
    return new CapacityStatus(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of(), List.of());
  }
}
