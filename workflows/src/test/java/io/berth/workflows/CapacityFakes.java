package io.berth.workflows;

import io.berth.workflows.activities.ClaimActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.PassLookups;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassViews;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory fleet, pool and probe for the capacity controller under time skipping: hosts
 * launch at once (RUNNING, every slot alive) when the desired capacity rises, as a provider would
 * a little later. The workspace side (claims, sessions) is what a test sets by hand.
 */
final class CapacityFakes implements FleetActivities, StoreActivities, ProbeActivities, ClaimActivities {
  final int slotsPerHost;
  final int max;
  /** Host id → its slots' owners (null = none); sorted, so hosts read in launch order. */
  final Map<String, String[]> hosts = Collections.synchronizedMap(new TreeMap<>());
  final Set<String> dead = ConcurrentHashMap.newKeySet();
  /** Alive, but their probe fails. */
  final Set<String> unresponsive = ConcurrentHashMap.newKeySet();
  /** Every probed slot id, in order. */
  final List<String> probed = Collections.synchronizedList(new ArrayList<>());
  final Set<String> protectedHosts = ConcurrentHashMap.newKeySet();
  final Set<String> pool = ConcurrentHashMap.newKeySet();
  /** Slots a claim marks: the pool refuses them, as Redis does. */
  final Set<String> claimMarks = ConcurrentHashMap.newKeySet();
  /** Claims with no owner yet (slot id → request, user), as the pass view lists them. */
  final Map<String, ClaimedSlot> claims = new ConcurrentHashMap<>();
  /** The slot of a user's session, where a test says so (user → slot id). */
  final Map<String, String> sessionSlots = new ConcurrentHashMap<>();
  /** Users whose workspace workflow runs ({@link #deadClaims} answers the others). */
  final Set<String> running = ConcurrentHashMap.newKeySet();
  final Set<String> quarantined = ConcurrentHashMap.newKeySet();
  final Set<String> sessions = ConcurrentHashMap.newKeySet();
  final List<String> calls = Collections.synchronizedList(new ArrayList<>());
  /** Calls (as {@link #calls} lists them) that fail every attempt. */
  final Set<String> failing = ConcurrentHashMap.newKeySet();
  final List<Integer> desiredSet = Collections.synchronizedList(new ArrayList<>());
  /** The templates whose own host group was sized ({@code setPoolCapacity}). */
  final Set<String> poolsSized = ConcurrentHashMap.newKeySet();
  /** The store's running count of claims, as the pass view reports it. */
  volatile long claimsTotal;
  /** The template every slot runs (the pass view reads only its controller's template). */
  volatile String template = "demo";
  private int seq;
  volatile int desired;

  CapacityFakes(int slotsPerHost, int max, int initialHosts) {
    this.slotsPerHost = slotsPerHost;
    this.max = max;
    setDesiredCapacity(initialHosts);
    calls.clear();
    desiredSet.clear();
  }

  synchronized Slot slot(String hostId, int index) {
    return new Slot(Slot.idOf(hostId, index), hostId, index, "127.0.0.1", 20_000 + index, template);
  }

  /** A user takes a spare as the saga would: out of the pool, tagged, protected, with a session. */
  synchronized void claim(String slotId, String user) {
    pool.remove(slotId);
    String hostId = slotId.split("/")[0];
    hosts.get(hostId)[Integer.parseInt(slotId.split("/")[1])] = user;
    protectedHosts.add(hostId);
    sessions.add(user);
  }

  synchronized int running() {
    return hosts.size();
  }

  synchronized long owned() {
    return hosts.values().stream().flatMap(o -> java.util.Arrays.stream(o)).filter(o -> o != null).count();
  }

  private void call(String call) {
    calls.add(call);
    if (failing.contains(call)) {
      throw new IllegalStateException("fails on purpose: " + call);
    }
  }

  // ---- FleetActivities ----

  @Override
  public synchronized FleetSnapshot describeFleet() {
    calls.add("describeFleet");
    return snapshot();
  }

  private FleetSnapshot snapshot() {
    List<Host> list = new ArrayList<>();
    hosts.forEach((id, owners) -> {
      List<SlotStatus> slots = new ArrayList<>();
      for (int i = 0; i < owners.length; i++) {
        Slot s = slot(id, i);
        slots.add(new SlotStatus(s, owners[i], !dead.contains(s.slotId())));
      }
      list.add(new Host(id, "RUNNING", "127.0.0.1", protectedHosts.contains(id), Long.parseLong(id.substring(2)),
          slots));
    });
    return new FleetSnapshot(desired, 0, max, list);
  }

  @Override
  public synchronized void setPoolCapacity(String template, int d) {
    poolsSized.add(template);
    setDesiredCapacity(d);
  }

  @Override
  public synchronized void setDesiredCapacity(int d) {
    calls.add("setDesiredCapacity");
    desiredSet.add(d);
    desired = Math.min(max, d);
    while (hosts.size() < desired) {
      hosts.put(String.format("h-%d", ++seq), new String[slotsPerHost]);
    }
  }

  @Override
  public synchronized String ownerOf(Slot slot) {
    calls.add("ownerOf");
    String[] owners = hosts.get(slot.hostId());
    return owners == null ? null : owners[slot.index()];
  }

  @Override
  public void tagOwner(String requestId, Slot slot, String user) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public synchronized void untagOwner(String requestId, Slot slot, String user) {
    calls.add("untagOwner");
    String[] owners = hosts.get(slot.hostId());
    if (owners != null && user.equals(owners[slot.index()])) {
      owners[slot.index()] = null;
    }
  }

  @Override
  public synchronized void protectHost(String requestId, String hostId) {
    if (!HOST_WIDE.equals(requestId)) {
      throw new UnsupportedOperationException("not a controller call");
    }
    calls.add("protectHost " + hostId);
    protectedHosts.add(hostId);
  }

  @Override
  public synchronized void unprotectHost(String requestId, Slot slot) {
    calls.add("unprotectHost");
    protectedHosts.remove(slot.hostId());
  }

  @Override
  public synchronized void recycleSlot(Slot slot) {
    call("recycleSlot " + slot.slotId());
    dead.remove(slot.slotId());
  }

  @Override
  public synchronized void terminateHost(String hostId, boolean decrement) {
    calls.add("terminateHost " + hostId);
    hosts.remove(hostId);
    protectedHosts.remove(hostId);
    if (decrement) {
      desired--;
    }
  }

  // ---- StoreActivities ----

  @Override
  public synchronized PoolState poolState(String template) {
    calls.add("poolState");
    return pool();
  }

  private PoolState pool() {
    return new PoolState(pool.stream().sorted().toList(), quarantined.stream().sorted().toList(),
        sessions.stream().sorted().toList());
  }

  @Override
  public synchronized PassView passView(String template, int probeOffset) {
    calls.add("passView");
    return PassViews.of(snapshot(), pool(), template, probeOffset, new PassLookups() {
      @Override
      public Map<String, ClaimedSlot> claimsOf(List<String> slotIds) {
        Map<String, ClaimedSlot> found = new java.util.HashMap<>();
        slotIds.stream().filter(claims::containsKey).forEach(id -> found.put(id, claims.get(id)));
        return found;
      }

      @Override
      public String sessionSlotOf(String user) {
        return sessionSlots.get(user);
      }
    }).withClaimsTotal(claimsTotal);
  }

  @Override
  public synchronized void addSpares(String template, List<Slot> slots) {
    calls.add("addSpares");
    slots.stream().filter(s -> !claimMarks.contains(s.slotId())).forEach(s -> pool.add(s.slotId()));
  }

  @Override
  public synchronized List<String> removeSpares(String template, List<String> slotIds) {
    calls.add("removeSpares");
    return slotIds.stream().filter(pool::remove).toList();
  }

  @Override
  public synchronized void clearQuarantine(List<String> slotIds) {
    calls.add("clearQuarantine");
    slotIds.forEach(quarantined::remove);
  }

  @Override
  public Slot claimSpare(ClaimRequest request) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public synchronized void unclaim(String requestId, boolean quarantine) {
    calls.add("unclaim " + requestId);
    // As Redis does: the claim and its mark go, and the slot gets a fresh process (recycled).
    claims.values().stream().filter(c -> c.requestId().equals(requestId)).map(ClaimedSlot::slotId).toList()
        .forEach(slotId -> {
          claims.remove(slotId);
          claimMarks.remove(slotId);
          dead.remove(slotId);
        });
  }

  // ---- ClaimActivities ----

  @Override
  public synchronized List<String> deadClaims(List<ClaimedSlot> asked) {
    calls.add("deadClaims " + asked.size());
    return asked.stream().filter(c -> !running.contains(c.user())).map(ClaimedSlot::requestId).toList();
  }

  @Override
  public void forgetClaim(String requestId) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public synchronized void forgetClaimOf(String slotId) {
    calls.add("forgetClaimOf " + slotId);
    claimMarks.remove(slotId);
  }

  @Override
  public void storeSession(Session session) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public void restoreSession(Session session) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public void deleteSession(String user, String workspaceId) {
    throw new UnsupportedOperationException("not a controller call");
  }

  @Override
  public long lastActivity(String user) {
    throw new UnsupportedOperationException("not a controller call");
  }

  // ---- ProbeActivities ----

  @Override
  public ProbeResult probeSlot(Slot slot) {
    probed.add(slot.slotId());
    boolean up = !dead.contains(slot.slotId()) && !unresponsive.contains(slot.slotId());
    return new ProbeResult(up, up ? 200 : 0, "fake");
  }

  @Override
  public void awaitReady(Slot slot) {
    throw new UnsupportedOperationException("not a controller call");
  }
}
