package io.berth.activities.fleet;

import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The fleet step/undo pairs on top of a provider. */
public final class FleetActivitiesImpl implements FleetActivities {
  private static final Logger log = LoggerFactory.getLogger(FleetActivitiesImpl.class);
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
  public void setPoolCapacity(String template, int desired) {
    fleet.setDesiredCapacity(template, desired);
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
    if (!held(slot.hostId(), HOST_WIDE.equals(requestId) ? null : slot.slotId())) {
      fleet.setProtected(slot.hostId(), false);
    }
  }

  /** Whether a slot of the host other than {@code except} has an owner or a saga's claim now. */
  private boolean held(String hostId, String except) {
    return fleet.describe().hosts().stream()
        .filter(h -> h.hostId().equals(hostId))
        .flatMap(h -> h.slots().stream())
        .filter(s -> !s.slot().slotId().equals(except))
        .anyMatch(s -> s.owner() != null || claimed.test(s.slot().slotId()));
  }

  @Override
  public void recycleSlot(Slot slot) {
    fleet.revokeCredentials(slot);
    fleet.recycleSlot(slot);
  }

  /**
   * The controller decides on a view, and a quarantine's probes take seconds: a saga may have
   * claimed and tagged a slot of the host since. The controller takes the host's slots out of the
   * pool before it calls this, so no claim can come after this look; a held host stays.
   */
  @Override
  public void terminateHost(String hostId, boolean decrement) {
    if (held(hostId, null)) {
      log.warn("kept {}: a slot has an owner or a claim now", hostId);
      return;
    }
    fleet.terminate(hostId, decrement);
  }
}
