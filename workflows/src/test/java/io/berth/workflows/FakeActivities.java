package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.activities.RouteActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.DnsRecord;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassViews;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.RouteSpec;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * In-memory stand-ins for the outside systems, for workflow unit tests under time skipping (the
 * real ones are tested against real Redis/Nginx in their own modules and end to end). Records
 * every call and keeps the state a compensation must undo, so a test can assert nothing is left.
 */
final class FakeActivities implements StoreActivities, FleetActivities, DnsActivities, RouteActivities,
    ProbeActivities, CapacityActivities {
  final List<String> calls = Collections.synchronizedList(new ArrayList<>());
  /** The capacity controller's pokes, by reason (apart from {@link #calls}: they are not saga steps). */
  final List<String> pokes = Collections.synchronizedList(new ArrayList<>());
  /** The controllers {@code pokeCapacityOf} named, in order. */
  final List<String> pokedControllers = Collections.synchronizedList(new ArrayList<>());
  final Set<String> pool = ConcurrentHashMap.newKeySet();
  final Map<String, String> claims = new ConcurrentHashMap<>();
  final Map<String, String> owners = new ConcurrentHashMap<>();
  final Set<String> protectedHosts = ConcurrentHashMap.newKeySet();
  final Set<String> dnsRecords = ConcurrentHashMap.newKeySet();
  final Set<String> routes = ConcurrentHashMap.newKeySet();
  final Map<String, String> sessions = new ConcurrentHashMap<>();
  final Set<String> quarantined = ConcurrentHashMap.newKeySet();
  final Set<String> recycled = ConcurrentHashMap.newKeySet();
  volatile long lastActivity;
  /** The step (method name) that fails with a non-retryable error, or null. */
  volatile String failing;
  /** The step (method name) that waits, before it does anything, until {@link #letHeldGo()}; or null. */
  volatile String held;
  private final CountDownLatch heldUntil = new CountDownLatch(1);

  void letHeldGo() {
    heldUntil.countDown();
  }

  FakeActivities withSpare(String slotId) {
    pool.add(slotId);
    return this;
  }

  private void call(String name) {
    calls.add(name);
    if (name.equals(held)) {
      try {
        if (!heldUntil.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException(name + " held for more than 60 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    if (name.equals(failing)) {
      throw ApplicationFailure.newNonRetryableFailure(name + " failed on purpose", "InjectedFault");
    }
  }

  static Slot slot(String id) {
    return new Slot(id, id.split("/")[0], 0, "127.0.0.1", 50_000, "demo");
  }

  @Override
  public Slot claimSpare(ClaimRequest r) {
    call("claimSpare");
    String existing = claims.get(r.requestId());
    if (existing != null) {
      return slot(existing);
    }
    String id = pool.stream().findFirst().orElse(null);
    if (id == null || !pool.remove(id)) {
      return null;
    }
    claims.put(r.requestId(), id);
    return slot(id);
  }

  @Override
  public void unclaim(String requestId, boolean quarantine) {
    calls.add("unclaim");
    String id = claims.remove(requestId);
    if (id != null) {
      (quarantine ? quarantined : recycled).add(id);
    }
  }

  @Override
  public void forgetClaim(String requestId) {
    calls.add("forgetClaim");
    claims.remove(requestId);
  }

  @Override
  public void forgetClaimOf(String slotId) {
    calls.add("forgetClaimOf");
    claims.values().remove(slotId);
  }

  @Override
  public void storeSession(Session s) {
    call("storeSession");
    sessions.put(s.user(), s.workspaceId());
  }

  @Override
  public void restoreSession(Session s) {
    call("restoreSession");
    if (!s.workspaceId().equals(sessions.get(s.user()))) {
      storeSession(s);
    }
  }

  @Override
  public void deleteSession(String user, String workspaceId) {
    calls.add("deleteSession");
    sessions.remove(user, workspaceId);
  }

  @Override
  public long lastActivity(String user) {
    calls.add("lastActivity");
    return lastActivity;
  }

  @Override
  public PoolState poolState(String template) {
    return new PoolState(List.copyOf(pool), List.copyOf(quarantined), List.copyOf(sessions.keySet()));
  }

  @Override
  public PassView passView(String template, int probeOffset) {
    call("passView");
    return PassViews.of(describeFleet(), poolState(template), template, probeOffset);
  }

  @Override
  public void addSpares(String template, List<Slot> slots) {
    slots.forEach(s -> pool.add(s.slotId()));
  }

  @Override
  public List<String> removeSpares(String template, List<String> slotIds) {
    return slotIds.stream().filter(pool::remove).toList();
  }

  @Override
  public void clearQuarantine(List<String> slotIds) {
    slotIds.forEach(quarantined::remove);
  }

  @Override
  public FleetSnapshot describeFleet() {
    return new FleetSnapshot(0, 0, 0, List.<Host>of());
  }

  @Override
  public String ownerOf(Slot slot) {
    call("ownerOf");
    return owners.get(slot.slotId());
  }

  @Override
  public void setDesiredCapacity(int desired) {
    calls.add("setDesiredCapacity");
  }

  @Override
  public void setPoolCapacity(String template, int desired) {
    calls.add("setPoolCapacity");
  }

  @Override
  public void tagOwner(String requestId, Slot slot, String user) {
    call("tagOwner");
    owners.put(slot.slotId(), user);
  }

  @Override
  public void untagOwner(String requestId, Slot slot, String user) {
    calls.add("untagOwner");
    owners.remove(slot.slotId(), user);
  }

  @Override
  public void protectHost(String requestId, String hostId) {
    call("protectHost");
    protectedHosts.add(hostId);
  }

  @Override
  public void unprotectHost(String requestId, Slot slot) {
    calls.add("unprotectHost");
    protectedHosts.remove(slot.hostId());
  }

  @Override
  public void recycleSlot(Slot slot) {
    calls.add("recycleSlot");
    recycled.add(slot.slotId());
  }

  @Override
  public void terminateHost(String hostId, boolean decrement) {
    calls.add("terminateHost");
  }

  @Override
  public void upsertRecord(DnsRecord record) {
    call("upsertRecord");
    dnsRecords.add(record.hostname());
  }

  @Override
  public void deleteRecord(DnsRecord record) {
    calls.add("deleteRecord");
    dnsRecords.remove(record.hostname());
  }

  @Override
  public void routeWorkspace(RouteSpec route) {
    call("routeWorkspace");
    routes.add(route.label());
  }

  @Override
  public void unrouteWorkspace(RouteSpec route) {
    calls.add("unrouteWorkspace");
    routes.remove(route.label());
  }

  @Override
  public List<String> routedLabels() {
    return List.copyOf(routes);
  }

  @Override
  public ProbeResult probeSlot(Slot slot) {
    return new ProbeResult(!"awaitReady".equals(failing), 200, "fake");
  }

  @Override
  public void awaitReady(Slot slot) {
    call("awaitReady");
  }

  /** Nothing the saga or teardown put in place is left. */
  boolean nothingLeft() {
    return owners.isEmpty() && protectedHosts.isEmpty() && dnsRecords.isEmpty() && routes.isEmpty()
        && sessions.isEmpty() && claims.isEmpty();
  }

  Map<String, Object> leftovers() {
    Map<String, Object> m = new HashMap<>();
    m.put("owners", owners);
    m.put("protected", new HashSet<>(protectedHosts));
    m.put("dns", new HashSet<>(dnsRecords));
    m.put("routes", new HashSet<>(routes));
    m.put("sessions", sessions);
    m.put("claims", claims);
    return m;
  }

  @Override
  public void pokeCapacity(String reason) {
    pokes.add(reason);
  }

  @Override
  public void pokeCapacityOf(String controllerId, String reason) {
    pokes.add(reason);
    pokedControllers.add(controllerId);
  }
}
