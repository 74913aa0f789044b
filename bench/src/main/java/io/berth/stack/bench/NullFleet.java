package io.berth.stack.bench;

import io.berth.activities.fleet.Fleet;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BENCH-ONLY test double, never on the product path: a fleet of virtual slots with no processes,
 * so the {@code memory} scenario can track 10,000 workspaces on one machine. Every slot's address
 * is one shared tiny HTTP server, so the real {@code HttpProbe} passes.
 */
final class NullFleet implements Fleet {
  private final String template;
  private final int port;
  private final int slotsPerHost;
  private final List<String> hostIds = new ArrayList<>();
  private final Map<String, String> owners = new ConcurrentHashMap<>();
  private final Set<String> protectedHosts = ConcurrentHashMap.newKeySet();
  /** Slot id → the heartbeat token its workspace got, so the bench can beat as the workspace would. */
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  NullFleet(String template, int port, int slotsPerHost) {
    this.template = template;
    this.port = port;
    this.slotsPerHost = slotsPerHost;
  }

  /** Adds virtual hosts until there are at least {@code slots} slots; returns the new slots. */
  synchronized List<Slot> grow(int slots) {
    List<Slot> added = new ArrayList<>();
    while (hostIds.size() * slotsPerHost < slots) {
      String id = "v-" + (hostIds.size() + 1);
      hostIds.add(id);
      for (int i = 0; i < slotsPerHost; i++) {
        added.add(slot(id, i));
      }
    }
    return added;
  }

  private Slot slot(String hostId, int index) {
    return new Slot(Slot.idOf(hostId, index), hostId, index, "127.0.0.1", port, template);
  }

  @Override
  public synchronized FleetSnapshot describe() {
    List<Host> hosts = new ArrayList<>();
    for (String id : hostIds) {
      List<SlotStatus> slots = new ArrayList<>();
      for (int i = 0; i < slotsPerHost; i++) {
        Slot s = slot(id, i);
        slots.add(new SlotStatus(s, owners.get(s.slotId()), true));
      }
      hosts.add(new Host(id, "RUNNING", "127.0.0.1", protectedHosts.contains(id), 0, slots));
    }
    return new FleetSnapshot(hostIds.size(), 0, hostIds.size(), hosts);
  }

  @Override
  public void setDesiredCapacity(int desired) {
  }

  @Override
  public void tagOwner(Slot slot, String owner) {
    if (owner == null) {
      owners.remove(slot.slotId());
    } else {
      owners.put(slot.slotId(), owner);
    }
  }

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
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    tokens.put(slot.slotId(), heartbeatToken);
  }

  @Override
  public void revokeCredentials(Slot slot) {
    tokens.remove(slot.slotId());
  }

  /** The heartbeat tokens of the workspaces that hold a slot now. */
  List<String> heartbeatTokens() {
    return List.copyOf(tokens.values());
  }
}
