package io.berth.api.admin;

import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.micronaut.serde.annotation.SerdeImport;
import io.temporal.client.WorkflowClient;
import jakarta.inject.Singleton;
import java.time.Duration;

/** The capacity workflow's view of the fleet, for {@code GET /api/status}. */
@Singleton
@SerdeImport(CapacityStatus.class)
@SerdeImport(Host.class)
@SerdeImport(SlotStatus.class)
@SerdeImport(Slot.class)
@SerdeImport(ScalingDecision.class)
public class FleetStatus {
  private final WorkflowClient client;

  public FleetStatus(WorkflowClient client) {
    this.client = client;
  }

  public CapacityStatus status() {
    try {
      return client.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).status();
    } catch (RuntimeException e) {
      WorkspaceWorkflows.translate(e, "the capacity query"); // logs why
      throw ApiException.unavailable("the capacity controller is not reachable", Duration.ofSeconds(5));
    }
  }
}
