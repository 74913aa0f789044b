package io.berth.activities.store;

import io.berth.activities.fleet.Fleet;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Slot;
import java.util.ArrayList;
import java.util.List;

/** Remembers what the store asked of the fleet, in order (the real fleets have their own tests). */
final class RecordingFleet implements Fleet {
  record Call(String what, String slotId, String user, String token) {}

  final List<Call> calls = new ArrayList<>();
  /** Owner tags as the fleet would report them (slot id → user). */
  final java.util.Map<String, String> owners = new java.util.concurrent.ConcurrentHashMap<>();

  synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  synchronized List<String> tokens() {
    return calls.stream().filter(c -> c.what().equals("deliver")).map(Call::token).toList();
  }

  private synchronized void record(String what, Slot slot, String user, String token) {
    calls.add(new Call(what, slot.slotId(), user, token));
  }

  @Override
  public FleetSnapshot describe() {
    return new FleetSnapshot(0, 0, 0, List.of());
  }

  @Override
  public void setDesiredCapacity(int desired) {}

  @Override
  public void tagOwner(Slot slot, String owner) {}

  @Override
  public String ownerOf(Slot slot) {
    return owners.get(slot.slotId());
  }

  @Override
  public void setProtected(String hostId, boolean protect) {}

  @Override
  public void recycleSlot(Slot slot) {
    record("recycle", slot, null, null);
  }

  @Override
  public void terminate(String hostId, boolean decrement) {}

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    record("deliver", slot, user, heartbeatToken);
  }

  @Override
  public void revokeCredentials(Slot slot) {
    record("revoke", slot, null, null);
  }
}
