package io.berth.workflows.model;

import java.util.List;
import java.util.Map;

/** What the capacity workflow remembers across continue-as-new. */
public record CapacityMemory(long lastScaleOutMillis, long wantedFewerSinceMillis, Map<String, Integer> probeFailures,
                             List<CapacityRequest> waiters, List<ScalingDecision> decisions) {
  public static CapacityMemory empty() {
    return new CapacityMemory(0, 0, Map.of(), List.of(), List.of());
  }
}
