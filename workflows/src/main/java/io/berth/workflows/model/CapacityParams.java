package io.berth.workflows.model;

import java.time.Duration;

/**
 * Settings of the capacity controller. {@code queue}: at max capacity, cold-path requests wait in a
 * first-come-first-served queue (bounded by their cold-start timeout) instead of failing at once. {@code stableWindow}: how long the fleet must have wanted
 * fewer hosts before it scales in. {@code probeAttempts}: probe failures before a host is quarantined.
 */
public record CapacityParams(String template, int spares, int minHosts, int maxHosts, int slotsPerHost,
                             int scaleOutStep, Duration reconcileInterval, Duration scaleOutCooldown,
                             Duration stableWindow, int probeAttempts, int iterationsBeforeContinueAsNew,
                             boolean queue, CapacityMemory memory) {
  public CapacityParams withMemory(CapacityMemory m) {
    return new CapacityParams(template, spares, minHosts, maxHosts, slotsPerHost, scaleOutStep, reconcileInterval,
        scaleOutCooldown, stableWindow, probeAttempts, iterationsBeforeContinueAsNew, queue, m);
  }
}
