package io.berth.activities.fleet;

import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;

/**
 * A provider's fleet with Auto Scaling semantics ({@code LocalFleet}, {@code AwsFleet}).
 * {@link FleetActivitiesImpl} exposes it to workflows. Every write is idempotent: retrying a tag,
 * protect or terminate leaves the same state.
 */
public interface Fleet {
  FleetSnapshot describe();

  /**
   * The template's host group: its desired capacity, bounds and hosts. A provider with one group
   * (every template's slots on the same hosts) answers {@link #describe()}.
   */
  default FleetSnapshot describe(String template) {
    return describe();
  }

  /** Clamped to min/max. The provider launches or terminates hosts asynchronously, as an ASG does. */
  void setDesiredCapacity(int desired);

  /** The template's host group; a provider with one group has only the default template's. */
  default void setDesiredCapacity(String template, int desired) {
    setDesiredCapacity(desired);
  }

  /** owner null means UNASSIGNED. */
  void tagOwner(Slot slot, String owner);

  /** Current owner tag of the slot, null when UNASSIGNED. */
  String ownerOf(Slot slot);

  void setProtected(String hostId, boolean protect);

  /** A fresh template process for the slot (local); on a one-slot EC2 host, a restart of the template. */
  void recycleSlot(Slot slot);

  void terminate(String hostId, boolean decrement);

  /**
   * Hands the workspace its heartbeat token and owner (local: files in the slot's directory read by
   * the template; aws: the agent on the instance). The token never enters workflow history.
   */
  void deliverCredentials(Slot slot, String user, String heartbeatToken);

  /** Removes what {@link #deliverCredentials} gave the slot. */
  void revokeCredentials(Slot slot);
}
