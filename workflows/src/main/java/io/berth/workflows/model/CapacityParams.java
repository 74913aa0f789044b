package io.berth.workflows.model;

import java.time.Duration;

/**
 * Settings of the capacity controller. {@code queue}: at max capacity, cold-path requests wait in a
 * first-come-first-served queue (bounded by their cold-start timeout) instead of failing at once. {@code stableWindow}: how long the fleet must have wanted
 * fewer hosts before it scales in. {@code probeAttempts}: probe failures before a host is quarantined.
 * {@code scaleOutStep}: hosts added per pass to keep the spares; {@code scaleOutMaxStep}: hosts added
 * per pass while requests wait ({@code ceil(waiting / slotsPerHost)}, at most this; 0, in a controller
 * started before the setting existed, means {@link #DEFAULT_SCALE_OUT_MAX_STEP}). {@code rules}: how
 * many spares the pool keeps over time ({@link SpareRules}); null means {@code spares}, fixed.
 */
public record CapacityParams(String template, int spares, int minHosts, int maxHosts, int slotsPerHost,
                             int scaleOutStep, int scaleOutMaxStep, Duration reconcileInterval,
                             Duration scaleOutCooldown, Duration stableWindow, int probeAttempts,
                             int iterationsBeforeContinueAsNew, boolean queue, CapacityMemory memory,
                             SpareRules rules) {
  public static final int DEFAULT_SCALE_OUT_MAX_STEP = 10;

  /** A fixed spare count, {@code spares}. */
  public CapacityParams(String template, int spares, int minHosts, int maxHosts, int slotsPerHost,
                        int scaleOutStep, int scaleOutMaxStep, Duration reconcileInterval,
                        Duration scaleOutCooldown, Duration stableWindow, int probeAttempts,
                        int iterationsBeforeContinueAsNew, boolean queue, CapacityMemory memory) {
    this(template, spares, minHosts, maxHosts, slotsPerHost, scaleOutStep, scaleOutMaxStep, reconcileInterval,
        scaleOutCooldown, stableWindow, probeAttempts, iterationsBeforeContinueAsNew, queue, memory, null);
  }

  /** The rules the target follows: null (a run started before rules existed) is {@code spares}, fixed. */
  public SpareRules spareRules() {
    return rules == null ? SpareRules.fixed(spares) : rules;
  }

  public CapacityParams withRules(SpareRules r) {
    return new CapacityParams(template, spares, minHosts, maxHosts, slotsPerHost, scaleOutStep, scaleOutMaxStep,
        reconcileInterval, scaleOutCooldown, stableWindow, probeAttempts, iterationsBeforeContinueAsNew, queue, memory,
        r);
  }

  public CapacityParams withMemory(CapacityMemory m) {
    return new CapacityParams(template, spares, minHosts, maxHosts, slotsPerHost, scaleOutStep, scaleOutMaxStep,
        reconcileInterval, scaleOutCooldown, stableWindow, probeAttempts, iterationsBeforeContinueAsNew, queue, m,
        rules);
  }

  /** The step while requests wait: never below the ordinary step. */
  public int waitingStep() {
    return Math.max(scaleOutStep, scaleOutMaxStep > 0 ? scaleOutMaxStep : DEFAULT_SCALE_OUT_MAX_STEP);
  }
}
