package io.berth.workflows.model;

import java.util.List;

/** The capacity workflow's query answer. */
public record CapacityStatus(int desired, int actual, int min, int max, int slotsPerHost, int slotsUsed,
                             int slotsFree, int sparesReady, int sparesTarget, int active, int provisioning,
                             List<Host> hosts, List<ScalingDecision> decisions) {}
