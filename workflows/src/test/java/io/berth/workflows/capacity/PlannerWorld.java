package io.berth.workflows.capacity;

import io.berth.workflows.capacity.CapacityPlanner.Plan;
import io.berth.workflows.capacity.CapacityPlanner.Probed;
import io.berth.workflows.capacity.CapacityPlanner.Repairs;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityMemory.ProbeFailures;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.DemandLog;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.PassLookups;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassViews;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.berth.workflows.model.SpareRules;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A fleet, its pool and the controller's memory, described a line at a time and joined into a
 * {@link PassView} by {@link PassViews}, as the {@code passView} activity joins the real ones.
 * {@link #pass} runs both phases of the planner, answering the probes as the slots would.
 */
final class PlannerWorld {
  static final long NOW = 1_000_000_000L;
  static final String FREE = null;

  private final Map<String, String[]> hosts = new LinkedHashMap<>();
  private final Set<String> pending = new HashSet<>();
  private final Set<String> protectedHosts = new HashSet<>();
  private final Set<String> unprotectedHosts = new HashSet<>();
  private final Set<String> dead = new HashSet<>();
  private final Set<String> unresponsive = new HashSet<>();
  private final Set<String> pool = new TreeSet<>();
  private final Set<String> quarantined = new TreeSet<>();
  private final Set<String> withoutSession = new HashSet<>();
  private final Map<String, ClaimedSlot> claims = new HashMap<>();
  private final Map<String, String> sessionSlots = new HashMap<>();
  private Integer desired;

  // The controller's memory.
  private long lastScaleOut;
  private long wantedFewerSince;
  private final Map<String, ProbeFailures> probeFailures = new HashMap<>();
  private final Map<String, Long> claimsSeenSince = new HashMap<>();
  private final Map<String, Long> unprotectedSince = new HashMap<>();
  private long sparesProbedAt;
  private final List<CapacityRequest> waiters = new ArrayList<>();
  private DemandLog demand;
  private String targetRule;
  private long claimsTotal;

  static PlannerWorld world() {
    return new PlannerWorld();
  }

  /** A running host with one slot per owner given ({@link #FREE}: none); an owned host is protected. */
  PlannerWorld host(String id, String... owners) {
    hosts.put(id, owners.length == 0 ? new String[] {FREE} : owners.clone());
    return this;
  }

  /** A host still launching. */
  PlannerWorld pending(String id) {
    pending.add(id);
    return host(id);
  }

  PlannerWorld protect(String hostId) {
    protectedHosts.add(hostId);
    return this;
  }

  PlannerWorld unprotect(String hostId) {
    unprotectedHosts.add(hostId);
    return this;
  }

  PlannerWorld pooled(String... slotIds) {
    pool.addAll(List.of(slotIds));
    return this;
  }

  PlannerWorld dead(String slotId) {
    dead.add(slotId);
    return this;
  }

  PlannerWorld unresponsive(String slotId) {
    unresponsive.add(slotId);
    return this;
  }

  PlannerWorld quarantined(String slotId) {
    quarantined.add(slotId);
    return this;
  }

  /** Every owner has a session, but for these users (a stray tag). */
  PlannerWorld noSession(String user) {
    withoutSession.add(user);
    return this;
  }

  PlannerWorld claim(String slotId, String requestId, String user) {
    claims.put(slotId, new ClaimedSlot(slotId, requestId, user));
    return this;
  }

  PlannerWorld sessionOn(String user, String slotId) {
    sessionSlots.put(user, slotId);
    return this;
  }

  PlannerWorld desired(int n) {
    desired = n;
    return this;
  }

  PlannerWorld scaledOutAgo(Duration d) {
    lastScaleOut = NOW - d.toMillis();
    return this;
  }

  PlannerWorld wantedFewerFor(Duration d) {
    wantedFewerSince = NOW - d.toMillis();
    return this;
  }

  PlannerWorld probeFailed(String hostId, int times, Duration lastAgo) {
    probeFailures.put(hostId, new ProbeFailures(times, NOW - lastAgo.toMillis()));
    return this;
  }

  PlannerWorld claimSeenFor(String requestId, Duration d) {
    claimsSeenSince.put(requestId, NOW - d.toMillis());
    return this;
  }

  PlannerWorld unprotectedFor(String hostId, Duration d) {
    unprotectedSince.put(hostId, NOW - d.toMillis());
    return this;
  }

  PlannerWorld sparesProbedAgo(Duration d) {
    sparesProbedAt = NOW - d.toMillis();
    return this;
  }

  PlannerWorld waiting(int n) {
    for (int i = 0; i < n; i++) {
      waiters.add(new CapacityRequest("w" + waiters.size(), "u" + waiters.size(), "demo", NOW));
    }
    return this;
  }

  /** The store's running count of claims, as this pass's view reads it. */
  PlannerWorld claimsTotal(long total) {
    claimsTotal = total;
    return this;
  }

  /** The store's count of claims {@code ago}, as an earlier pass sampled it. */
  PlannerWorld claimsTotalAgo(long total, Duration ago) {
    demand = DemandLog.of(demand).withClaimsTotal(NOW - ago.toMillis(), total);
    return this;
  }

  /** Requests that found the pool empty {@code ago}. */
  PlannerWorld missed(int n, Duration ago) {
    for (int i = 0; i < n; i++) {
      demand = DemandLog.of(demand).withMiss(NOW - ago.toMillis());
    }
    return this;
  }

  /** The target an earlier pass recorded ({@code Target.key()}). */
  PlannerWorld targetRecorded(String key) {
    targetRule = key;
    return this;
  }

  CapacityMemory memory() {
    return new CapacityMemory(lastScaleOut, wantedFewerSince, probeFailures, claimsSeenSince, unprotectedSince, 0,
        sparesProbedAt, false, waiters, List.of(), demand, targetRule);
  }

  PassView view(CapacityParams settings) {
    List<Host> list = new ArrayList<>();
    Set<String> users = new TreeSet<>();
    long launched = 0;
    for (Map.Entry<String, String[]> h : hosts.entrySet()) {
      String id = h.getKey();
      List<SlotStatus> slots = new ArrayList<>();
      boolean owned = false;
      for (int i = 0; i < h.getValue().length; i++) {
        String owner = h.getValue()[i];
        Slot s = new Slot(Slot.idOf(id, i), id, i, "127.0.0.1", 20_000 + i, "demo");
        slots.add(new SlotStatus(s, owner, !dead.contains(s.slotId())));
        owned |= owner != null;
        if (owner != null && !withoutSession.contains(owner)) {
          users.add(owner);
        }
      }
      boolean prot = protectedHosts.contains(id) || (owned && !unprotectedHosts.contains(id));
      list.add(new Host(id, pending.contains(id) ? "PENDING" : "RUNNING", "127.0.0.1", prot, ++launched, slots));
    }
    int d = desired == null ? hosts.size() : desired;
    PassLookups lookups = new PassLookups() {
      @Override
      public Map<String, ClaimedSlot> claimsOf(List<String> slotIds) {
        Map<String, ClaimedSlot> found = new HashMap<>();
        slotIds.stream().filter(claims::containsKey).forEach(id -> found.put(id, claims.get(id)));
        return found;
      }

      @Override
      public String sessionSlotOf(String user) {
        return sessionSlots.get(user);
      }
    };
    return PassViews.of(new FleetSnapshot(d, settings.minHosts(), settings.maxHosts(), list),
        new PoolState(List.copyOf(pool), List.copyOf(quarantined), List.copyOf(users)), "demo", 0, lookups)
        .withClaimsTotal(claimsTotal);
  }

  /** What one pass decides: both phases' actions, the slots it probed, and the memory it keeps. */
  record Pass(List<String> actions, List<String> probed, CapacityMemory memory, int spares,
              SpareTarget.Target target) {}

  Pass pass(CapacityParams settings) {
    PassView view = view(settings);
    Repairs repairs = CapacityPlanner.repairs(view, memory(), settings, NOW);
    List<Probed> answers = repairs.probes().stream()
        .map(c -> new Probed(c, !unresponsive.contains(c.slot().slotId()))).toList();
    Plan plan = CapacityPlanner.capacity(view, answers, repairs.memory(), settings, NOW);
    List<String> actions = new ArrayList<>();
    repairs.actions().forEach(a -> actions.add(a.describe()));
    plan.actions().forEach(a -> actions.add(a.describe()));
    return new Pass(actions, repairs.probes().stream().map(c -> c.slot().slotId()).toList(), plan.memory(),
        plan.spares(), plan.target());
  }

  /**
   * Settings: {@code spares} kept, hosts between {@code min} and {@code max}, one slot per host
   * unless said, scale-out step 2 (10 while requests wait), reconcile interval 10 s, cooldown 180 s,
   * stable window 60 s, 3 probe attempts.
   */
  static CapacityParams settings(int spares, int min, int max, boolean queue) {
    return new CapacityParams("demo", spares, min, max, 1, 2, 10, Duration.ofSeconds(10), Duration.ofSeconds(180),
        Duration.ofSeconds(60), 3, 100, queue, null);
  }

  static CapacityParams settings(int spares, int min, int max) {
    return settings(spares, min, max, false);
  }

  /** {@link #settings} with spare rules: {@code base}, these schedules in UTC, and a demand rule or none. */
  static CapacityParams settings(int min, int max, SpareRules rules) {
    return settings(rules.base(), min, max).withRules(rules);
  }
}
