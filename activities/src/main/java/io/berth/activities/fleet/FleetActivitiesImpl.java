package io.berth.activities.fleet;

import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;
import java.util.Objects;
import java.util.function.Predicate;

/** The fleet step/undo pairs on top of a provider. */
public final class FleetActivitiesImpl implements FleetActivities {
  private final Fleet fleet;
  private final Predicate<String> claimed;

  /** Without claims to consult: a saga's protection counts only once its owner tag is written. */
  public FleetActivitiesImpl(Fleet fleet) {
    this(fleet, slotId -> false);
  }

  /** {@code claimed}: whether a saga under way holds the slot ({@code RedisStore::claimed}). */
  public FleetActivitiesImpl(Fleet fleet, Predicate<String> claimed) {
    this.fleet = fleet;
    this.claimed = claimed;
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
    // The controller's repair was decided on a view: a teardown may have finished since.
    if (!HOST_WIDE.equals(requestId) || fleet.describe().hosts().stream()
        .anyMatch(h -> h.hostId().equals(hostId) && h.owned())) {
      fleet.setProtected(hostId, true);
    }
  }

  @Override
  public void unprotectHost(String requestId, Slot slot) {
    boolean hostWide = HOST_WIDE.equals(requestId);
    boolean held = fleet.describe().hosts().stream()
        .filter(h -> h.hostId().equals(slot.hostId()))
        .flatMap(h -> h.slots().stream())
        .filter(s -> hostWide || !s.slot().slotId().equals(slot.slotId()))
        .anyMatch(s -> s.owner() != null || claimed.test(s.slot().slotId()));
    if (!held) {
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
