package io.berth.workflows.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the capacity controller remembers from pass to pass and across continue-as-new: the
 * planner's input and output ({@code CapacityPlanner}), the waiters the signals add and remove,
 * and the last decisions for the status.
 *
 * @param lastScaleOutMillis when the fleet was last asked to grow (the cooldown counts from it)
 * @param wantedFewerSinceMillis since when the fleet has wanted fewer hosts; 0: it does not
 * @param probeFailures per host, failed probe passes counted so far and when the last one was counted
 * @param claimsSeenSince claims without an owner, by request id, and since when passes list them
 * @param unprotectedSince owned hosts without scale-in protection, and since when passes list them
 * @param probeCursor which pooled spares the next pass probes, when there are more than a pass probes
 * @param sparesProbedAtMillis when a pass last probed the pooled spares; 0: never
 * @param comingUp capacity was asked for and is not serving yet (while requests wait, passes come sooner)
 * @param waiters cold-path requests waiting for a spare, in arrival order
 * @param decisions the last {@link #DECISIONS_KEPT} decisions, oldest first
 * @param demand claims and misses the demand term reads; null (a memory from before) is none
 * @param targetRule {@code Target.key()} of the spare target last recorded as a decision; null: none yet
 */
public record CapacityMemory(long lastScaleOutMillis, long wantedFewerSinceMillis,
                             Map<String, ProbeFailures> probeFailures, Map<String, Long> claimsSeenSince,
                             Map<String, Long> unprotectedSince, int probeCursor, long sparesProbedAtMillis,
                             boolean comingUp, List<CapacityRequest> waiters, List<ScalingDecision> decisions,
                             // Left out of the JSON while null: a controller without spare rules
                             // carries the memory it always did.
                             @JsonInclude(JsonInclude.Include.NON_NULL) DemandLog demand,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String targetRule) {
  public static final int DECISIONS_KEPT = 20;

  /** Sorted, unmodifiable copies: the memory is a workflow's input, and its JSON must not depend on hashing. */
  public CapacityMemory {
    probeFailures = sorted(probeFailures);
    claimsSeenSince = sorted(claimsSeenSince);
    unprotectedSince = sorted(unprotectedSince);
    waiters = waiters == null ? List.of() : List.copyOf(waiters);
    decisions = decisions == null ? List.of() : List.copyOf(decisions);
  }

  /** Without demand and without a recorded target. */
  public CapacityMemory(long lastScaleOutMillis, long wantedFewerSinceMillis,
                        Map<String, ProbeFailures> probeFailures, Map<String, Long> claimsSeenSince,
                        Map<String, Long> unprotectedSince, int probeCursor, long sparesProbedAtMillis,
                        boolean comingUp, List<CapacityRequest> waiters, List<ScalingDecision> decisions) {
    this(lastScaleOutMillis, wantedFewerSinceMillis, probeFailures, claimsSeenSince, unprotectedSince, probeCursor,
        sparesProbedAtMillis, comingUp, waiters, decisions, null, null);
  }

  public static CapacityMemory empty() {
    return new CapacityMemory(0, 0, Map.of(), Map.of(), Map.of(), 0, 0, false, List.of(), List.of());
  }

  /** A request that found the pool empty, at {@code now} (workflow time). */
  public CapacityMemory withMiss(long now) {
    return new CapacityMemory(lastScaleOutMillis, wantedFewerSinceMillis, probeFailures, claimsSeenSince,
        unprotectedSince, probeCursor, sparesProbedAtMillis, comingUp, waiters, decisions,
        DemandLog.of(demand).withMiss(now), targetRule);
  }

  /** Adds a waiter at the end of the queue; one already waiting keeps its place. */
  public CapacityMemory withWaiter(CapacityRequest request) {
    if (isWaiting(request.workflowId())) {
      return this;
    }
    List<CapacityRequest> more = new ArrayList<>(waiters);
    more.add(request);
    return withWaiters(more);
  }

  public CapacityMemory withoutWaiter(String workflowId) {
    return withWaiters(waiters.stream().filter(w -> !w.workflowId().equals(workflowId)).toList());
  }

  public boolean isWaiting(String workflowId) {
    return waiters.stream().anyMatch(w -> w.workflowId().equals(workflowId));
  }

  /** Records a decision, dropping the oldest past {@link #DECISIONS_KEPT}. */
  public CapacityMemory withDecision(ScalingDecision decision) {
    List<ScalingDecision> kept = new ArrayList<>(decisions);
    kept.add(decision);
    List<ScalingDecision> last = kept.subList(Math.max(0, kept.size() - DECISIONS_KEPT), kept.size());
    return new CapacityMemory(lastScaleOutMillis, wantedFewerSinceMillis, probeFailures, claimsSeenSince,
        unprotectedSince, probeCursor, sparesProbedAtMillis, comingUp, waiters, last, demand, targetRule);
  }

  private CapacityMemory withWaiters(List<CapacityRequest> w) {
    return new CapacityMemory(lastScaleOutMillis, wantedFewerSinceMillis, probeFailures, claimsSeenSince,
        unprotectedSince, probeCursor, sparesProbedAtMillis, comingUp, w, decisions, demand, targetRule);
  }

  private static <V> Map<String, V> sorted(Map<String, V> m) {
    return m == null || m.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(m));
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
