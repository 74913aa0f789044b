package io.berth.activities.fleet;

import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;
import java.util.Objects;

/** The fleet step/undo pairs on top of a provider. */
public final class FleetActivitiesImpl implements FleetActivities {
  private final Fleet fleet;

  public FleetActivitiesImpl(Fleet fleet) {
    this.fleet = fleet;
  }

  @Override
  public FleetSnapshot describeFleet() {
    return fleet.describe();
  }

  @Override
  public void setDesiredCapacity(int desired) {
    fleet.setDesiredCapacity(desired);
  }

  @Override
  public String ownerOf(Slot slot) {
    return fleet.ownerOf(slot);
  }

  @Override
  public void tagOwner(String requestId, Slot slot, String user) {
    fleet.tagOwner(slot, user);
  }

  @Override
  public void untagOwner(String requestId, Slot slot, String user) {
    // Only undo our own tag: a retried compensation must not untag a later owner.
    if (Objects.equals(fleet.ownerOf(slot), user)) {
      fleet.tagOwner(slot, null);
    }
  }

  @Override
  public void protectHost(String requestId, String hostId) {
    fleet.setProtected(hostId, true);
  }

  @Override
  public void unprotectHost(String requestId, Slot slot) {
    boolean otherOwner = fleet.describe().hosts().stream()
        .filter(h -> h.hostId().equals(slot.hostId()))
        .flatMap(h -> h.slots().stream())
        .anyMatch(s -> s.owner() != null && !s.slot().slotId().equals(slot.slotId()));
    if (!otherOwner) {
      fleet.setProtected(slot.hostId(), false);
    }
  }

  @Override
  public void recycleSlot(Slot slot) {
    fleet.revokeCredentials(slot);
    fleet.recycleSlot(slot);
  }

  @Override
  public void terminateHost(String hostId, boolean decrement) {
    fleet.terminate(hostId, decrement);
  }
}
