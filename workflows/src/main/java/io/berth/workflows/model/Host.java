package io.berth.workflows.model;

import java.util.List;

/**
 * A machine that runs workspaces: an EC2 instance of the group, or a local host.
 * {@code state}: PENDING (launching), RUNNING, TERMINATING, QUARANTINED.
 */
public record Host(String hostId, String state, String address, boolean scaleInProtected, long launchedAtMillis,
                   List<SlotStatus> slots) {
  public boolean running() {
    return "RUNNING".equals(state);
  }

  public boolean owned() {
    return slots.stream().anyMatch(s -> s.owner() != null);
  }
}
