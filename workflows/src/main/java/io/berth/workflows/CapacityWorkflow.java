package io.berth.workflows;

import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** Singleton fleet controller, id {@code capacity}: reconciles on a timer and at once on signals. */
@WorkflowInterface
public interface CapacityWorkflow {
  String ID = "capacity";

  @WorkflowMethod
  void run(CapacityParams params);

  /** An allocation or teardown happened: reconcile now. */
  @SignalMethod
  void poke(String reason);

  /** A workspace found the pool empty; it gets {@code spareAvailable} when spares join. */
  @SignalMethod
  void needCapacity(String workspaceWorkflowId);

  @SignalMethod
  void reconfigure(CapacityParams params);

  @QueryMethod
  CapacityStatus status();
}
