package io.berth.api;

import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.workflow.Workflow;
import java.util.List;

/**
 * Test stand-in: answers {@code status()} with a fixed one-host fleet. Another template's
 * controller ({@code capacity-<template>}) answers with its template, a spare rule and no host.
 */
public class FakeCapacityWorkflow implements CapacityWorkflow {
  @Override
  public void run(CapacityParams params) {
    Workflow.await(() -> false);
  }

  @Override
  public void poke(String reason) {}

  @Override
  public void needCapacity(io.berth.workflows.model.CapacityRequest request) {}

  @Override
  public void cancelNeed(String workspaceWorkflowId) {}

  @Override
  public void reconfigure(CapacityParams params) {}

  @Override
  public CapacityStatus status() {
    String id = Workflow.getInfo().getWorkflowId();
    if (!id.equals(CapacityWorkflow.ID)) {
      String template = id.substring(CapacityWorkflow.ID.length() + 1);
      return new CapacityStatus(0, 0, 0, 6, 1, 0, 0, 0, 2, 0, 0, List.of(),
          List.of(new ScalingDecision(1, 0, 1, "scale-out", "spares below target (base 2)")), template, "base 2");
    }
    Slot slot = new Slot("host-1/0", "host-1", 0, "127.0.0.1", 20000, "demo");
    Host host = new Host("host-1", "RUNNING", "127.0.0.1", false, 1, List.of(new SlotStatus(slot, null, true)));
    return new CapacityStatus(1, 1, 0, 4, 1, 0, 1, 1, 1, 0, 0, List.of(host),
        List.of(new ScalingDecision(1, 0, 1, "scale-out", "spares below target")));
  }
}
