package io.berth.api.admin;

import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.OfferedTemplates;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.berth.workflows.pools.Pool;
import io.micronaut.serde.annotation.SerdeImport;
import io.temporal.client.WorkflowClient;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The fleet as each template's controller sees its pool, for {@code GET /api/status}: every
 * controller is asked; the default template's answer is also the top level, as before pools per
 * template. Only the default controller not answering is a 503: another one's pool is listed
 * with the reason it has no status.
 */
@Singleton
@SerdeImport(CapacityStatus.class)
@SerdeImport(Host.class)
@SerdeImport(SlotStatus.class)
@SerdeImport(Slot.class)
@SerdeImport(ScalingDecision.class)
public class FleetStatus {
  private final WorkflowClient client;
  private final OfferedTemplates templates;

  public FleetStatus(WorkflowClient client, OfferedTemplates templates) {
    this.client = client;
    this.templates = templates;
  }

  public FleetJson status() {
    List<PoolJson> pools = new ArrayList<>();
    CapacityStatus top = null;
    for (Pool pool : templates.pools()) {
      String id = templates.controllerOf(pool.name());
      boolean isDefault = pool.name().equals(templates.defaultTemplate());
      try {
        CapacityStatus s = query(id);
        pools.add(PoolJson.of(pool, id, s));
        top = isDefault ? s : top;
      } catch (RuntimeException e) {
        WorkspaceWorkflows.translate(e, "the capacity query of " + id); // logs why
        if (isDefault) {
          throw ApiException.unavailable("the capacity controller is not reachable", Duration.ofSeconds(5));
        }
        pools.add(PoolJson.unreachable(pool, id, "the controller " + id + " is not reachable"));
      }
    }
    return FleetJson.of(top, templates.defaultTemplate(), pools);
  }

  private CapacityStatus query(String controllerId) {
    return client.newWorkflowStub(CapacityWorkflow.class, controllerId).status();
  }
}
