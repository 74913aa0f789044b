package io.berth.workflows.model;

import java.util.List;

/**
 * The capacity workflow's query answer, for one template's pool. {@code sparesRule}: the rule that
 * set {@code sparesTarget} (base, a schedule, the demand term).
 */
public record CapacityStatus(int desired, int actual, int min, int max, int slotsPerHost, int slotsUsed,
                             int slotsFree, int sparesReady, int sparesTarget, int active, int provisioning,
                             List<Host> hosts, List<ScalingDecision> decisions, String template,
                             String sparesRule) {
  public CapacityStatus(int desired, int actual, int min, int max, int slotsPerHost, int slotsUsed,
                        int slotsFree, int sparesReady, int sparesTarget, int active, int provisioning,
                        List<Host> hosts, List<ScalingDecision> decisions) {
    this(desired, actual, min, max, slotsPerHost, slotsUsed, slotsFree, sparesReady, sparesTarget, active,
        provisioning, hosts, decisions, null, null);
  }
}
