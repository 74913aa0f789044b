package io.berth.workflows;

import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The controller of one template's pool ({@link #idFor}): reconciles on a timer and at once on signals. */
@WorkflowInterface
public interface CapacityWorkflow {
  String ID = "capacity";

  /**
   * The controller of a template's pool: the default template's keeps {@link #ID} (the id of the
   * single controller before pools per template), every other one is {@code capacity-<template>}.
   */
  static String idFor(String template, String defaultTemplate) {
    return template.equals(defaultTemplate) ? ID : ID + "-" + template;
  }

  @WorkflowMethod
  void run(CapacityParams params);

  /** An allocation or teardown happened: reconcile now. */
  @SignalMethod
  void poke(String reason);

  /**
   * A workspace found the pool empty. Waiters are woken ({@code spareAvailable}) in arrival order as
   * spares join; at max capacity without the queue they get {@code noCapacity} at once.
   */
  @SignalMethod
  void needCapacity(CapacityRequest request);

  /** The waiter gave up (timeout or release): forget it. */
  @SignalMethod
  void cancelNeed(String workspaceWorkflowId);

  @SignalMethod
  void reconfigure(CapacityParams params);

  @QueryMethod
  CapacityStatus status();
}
