package io.berth.api.admin;

import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * {@code GET /api/status}: the default template's pool at the top level (the fields of one
 * controller's status, as clients read them before pools per template), and every template's
 * pool in {@code pools}.
 */
@Serdeable
public record FleetJson(int desired, int actual, int min, int max, int slotsPerHost, int slotsUsed, int slotsFree,
                        int sparesReady, int sparesTarget, int active, int provisioning, List<Host> hosts,
                        List<ScalingDecision> decisions, String template, @Nullable String sparesRule,
                        List<PoolJson> pools) {

  static FleetJson of(CapacityStatus s, String defaultTemplate, List<PoolJson> pools) {
    return new FleetJson(s.desired(), s.actual(), s.min(), s.max(), s.slotsPerHost(), s.slotsUsed(), s.slotsFree(),
        s.sparesReady(), s.sparesTarget(), s.active(), s.provisioning(), s.hosts(), s.decisions(), defaultTemplate,
        s.sparesRule(), pools);
  }
}
