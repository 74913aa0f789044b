package io.berth.workflows.activities;

import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;
import io.temporal.activity.ActivityInterface;

/**
 * The provider's fleet (local hosts, or an EC2 Auto Scaling group) with Auto Scaling semantics.
 * Each step sits beside its undo; both are idempotent.
 */
@ActivityInterface
public interface FleetActivities {
  /**
   * The request id of the controller's {@link #unprotectHost} for protection no owner holds: it
   * names the host (by its first slot), so every slot's owner and claim is checked.
   */
  String HOST_WIDE = "reconcile";

  FleetSnapshot describeFleet();

  /** Clamped to the group's min/max by the provider. The default template's group. */
  void setDesiredCapacity(int desired);

  /** The desired capacity of the template's own host group, clamped to its min/max. */
  void setPoolCapacity(String template, int desired);

  /** The slot's owner tag now, null when UNASSIGNED (one slot, where a full {@link #describeFleet} would be large). */
  String ownerOf(Slot slot);

  /** Tags the slot with its owner (EC2 tag Owner=<user>; the local host's slot file). */
  void tagOwner(String requestId, Slot slot, String user);

  /** Undo of {@link #tagOwner}: back to UNASSIGNED, only if the slot is still tagged with this user. */
  void untagOwner(String requestId, Slot slot, String user);

  /** Protects the host from scale-in; with {@link #HOST_WIDE}, only while a slot of it has an owner. */
  void protectHost(String requestId, String hostId);

  /**
   * Undo of {@link #protectHost}: clears the host's protection unless a slot other than this one
   * still has an owner or is claimed by a saga under way (this slot's own tag may not be removed
   * yet when the saga unwinds). With {@link #HOST_WIDE} this slot counts too. Checked when the
   * activity runs, not when it was decided: a saga may have claimed and protected since.
   */
  void unprotectHost(String requestId, Slot slot);

  /** Gives the slot a fresh process (locally) so it can rejoin the pool after its probe passes. */
  void recycleSlot(Slot slot);

  /** Terminates the host; with {@code decrement} the desired capacity drops by one. */
  void terminateHost(String hostId, boolean decrement);
}
