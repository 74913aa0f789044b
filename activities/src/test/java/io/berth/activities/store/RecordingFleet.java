package io.berth.activities.store;

import io.berth.activities.fleet.Fleet;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
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

  /** Running hosts {@link #describe} reports (host id → its slots), and which of them are protected. */
  final java.util.Map<String, List<Slot>> hosts = new java.util.concurrent.ConcurrentHashMap<>();
  final java.util.Set<String> protectedHosts = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public FleetSnapshot describe() {
    List<Host> list = hosts.entrySet().stream().map(e -> new Host(e.getKey(), "RUNNING", "127.0.0.1",
        protectedHosts.contains(e.getKey()), 0,
        e.getValue().stream().map(s -> new SlotStatus(s, owners.get(s.slotId()), true)).toList())).toList();
    return new FleetSnapshot(list.size(), 0, list.size(), list);
  }

  /** The hosts whose slots run the template, as a provider with a group per template reports them. */
  @Override
  public FleetSnapshot describe(String template) {
    List<Host> list = describe().hosts().stream()
        .filter(h -> h.slots().stream().allMatch(s -> s.slot().template().equals(template))).toList();
    return new FleetSnapshot(list.size(), 0, list.size(), list);
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
  public void setProtected(String hostId, boolean protect) {
    if (protect) {
      protectedHosts.add(hostId);
    } else {
      protectedHosts.remove(hostId);
    }
  }

  @Override
  public void recycleSlot(Slot slot) {
    record("recycle", slot, null, null);
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
    hosts.remove(hostId);
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    record("deliver", slot, user, heartbeatToken);
  }

  @Override
  public void revokeCredentials(Slot slot) {
    record("revoke", slot, null, null);
  }
}
