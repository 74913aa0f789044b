package io.berth.workflows.model;

import java.util.List;
import java.util.Map;

/**
 * What the capacity workflow remembers across continue-as-new. {@code probeFailures}: per host,
 * failed probe passes counted so far and when the last one was counted.
 */
public record CapacityMemory(long lastScaleOutMillis, long wantedFewerSinceMillis,
                             Map<String, ProbeFailures> probeFailures, List<CapacityRequest> waiters,
                             List<ScalingDecision> decisions) {
  public static CapacityMemory empty() {
    return new CapacityMemory(0, 0, Map.of(), List.of(), List.of());
  }

  /** Failures are counted with backoff (5 s, 10 s, 20 s apart) so a booting process is not quarantined. */
  public record ProbeFailures(int count, long lastCountedAtMillis) {
    public static final long FIRST_SPACING_MILLIS = 5_000;

    /** Counts this failure if enough time passed since the last counted one. */
    public ProbeFailures next(long now) {
      if (count == 0) {
        return new ProbeFailures(1, now);
      }
      long spacing = FIRST_SPACING_MILLIS << Math.min(count - 1, 10);
      return now - lastCountedAtMillis >= spacing ? new ProbeFailures(count + 1, now) : this;
    }
  }
}
