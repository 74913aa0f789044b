package io.berth.api.admin;

import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.pools.Pool;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * One template's pool in {@code GET /api/status}, as its controller ({@code controllerId}) answers.
 * {@code sparesRule}: the rule that set {@code sparesTarget} (null from a controller that does not
 * name it); each decision's reason names its rule too. {@code error}: why there is no status (the
 * controller did not answer); the counts are then null and the lists empty.
 */
@Serdeable
public record PoolJson(String template, String kind, String controllerId, @Nullable Integer sparesTarget,
                       @Nullable String sparesRule, @Nullable Integer sparesReady, @Nullable Integer desired,
                       @Nullable Integer actual, @Nullable Integer min, @Nullable Integer max,
                       @Nullable Integer active, @Nullable Integer provisioning, List<Host> hosts,
                       List<ScalingDecision> decisions, @Nullable String error) {

  static PoolJson of(Pool pool, String controllerId, CapacityStatus s) {
    return new PoolJson(pool.name(), pool.kind(), controllerId, s.sparesTarget(), s.sparesRule(), s.sparesReady(),
        s.desired(), s.actual(), s.min(), s.max(), s.active(), s.provisioning(), listOf(s.hosts()),
        listOf(s.decisions()), null);
  }

  static PoolJson unreachable(Pool pool, String controllerId, String error) {
    return new PoolJson(pool.name(), pool.kind(), controllerId, null, null, null, null, null, null, null, null, null,
        List.of(), List.of(), error);
  }

  private static <T> List<T> listOf(@Nullable List<T> list) {
    return list == null ? List.of() : list;
  }
}
