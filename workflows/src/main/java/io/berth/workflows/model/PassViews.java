package io.berth.workflows.model;

import io.berth.workflows.model.PassView.HostSlots;
import io.berth.workflows.model.PassView.ProbeCandidate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Joins the fleet and the pool into what one controller pass needs ({@link PassView}). Called by the
 * {@code passView} activity (RedisStore), never in workflow code: the join over every slot happens
 * there, and only its small result enters history.
 */
public final class PassViews {
  private PassViews() {}

  public static PassView of(FleetSnapshot fleet, PoolState pool, String template, int probeOffset) {
    return of(fleet, pool, template, probeOffset, PassLookups.NONE);
  }

  /**
   * {@code lookups}: a claimed slot's host may be protected before the owner tag lands (tag and
   * protect run side by side), so that protection is not an orphan's; a claim that stays without an
   * owner may be a dead workflow's. A user tagged on two slots whose session names one of them left
   * the other behind (a run lost with the embedded Temporal, then a new allocation).
   */
  public static PassView of(FleetSnapshot fleet, PoolState pool, String template, int probeOffset,
      PassLookups lookups) {
    Map<String, SlotStatus> bySlot = new HashMap<>();
    Map<String, Host> hostOf = new HashMap<>();
    int slots = 0;
    int active = 0;
    int running = 0;
    boolean launching = false;
    Set<String> users = new HashSet<>(pool.users());
    for (Host h : fleet.hosts()) {
      running += h.running() ? 1 : 0;
      launching |= "PENDING".equals(h.state());
      for (SlotStatus s : h.slots()) {
        bySlot.put(s.slot().slotId(), s);
        hostOf.put(s.slot().slotId(), h);
        slots++;
        // Only an owner with a session is a workspace in use: a stray tag (a run that is gone) is
        // recycled, and counting it would grow the fleet for a workspace nobody has.
        active += s.owner() != null && users.contains(s.owner()) ? 1 : 0;
      }
    }
    Set<String> quarantined = new HashSet<>(pool.quarantined());

    List<Slot> deadSpares = new ArrayList<>();
    List<String> goneSpares = new ArrayList<>();
    List<String> liveSpares = new ArrayList<>();
    for (String id : pool.spares()) {
      SlotStatus s = bySlot.get(id);
      if (s == null) {
        add(goneSpares, id);
      } else if (!s.alive()) {
        add(deadSpares, s.slot());
      } else {
        liveSpares.add(id);
      }
    }
    // Only live spares count: a dead one left off a capped list is neither counted nor offered.
    int spares = liveSpares.size();
    Set<String> liveSpareIds = new HashSet<>(liveSpares);

    List<SlotStatus> strays = new ArrayList<>();
    List<SlotStatus> leftBehind = new ArrayList<>();
    Map<String, Integer> slotsOwned = new HashMap<>();
    fleet.hosts().forEach(h -> h.slots().stream().filter(s -> s.owner() != null)
        .forEach(s -> slotsOwned.merge(s.owner(), 1, Integer::sum)));
    List<Slot> unprotect = new ArrayList<>();
    List<String> unprotected = new ArrayList<>();
    List<ClaimedSlot> claims = new ArrayList<>();
    List<HostSlots> scaleIn = new ArrayList<>();
    List<ProbeCandidate> newcomers = new ArrayList<>();
    int scaleInSlots = 0;
    List<Host> newestFirst = fleet.hosts().stream()
        .sorted(Comparator.comparingLong(Host::launchedAtMillis).reversed()).toList();
    // Unowned slots outside the pool on running hosts: a claim may hold them (one lookup for all).
    List<String> mayBeClaimed = new ArrayList<>();
    fleet.hosts().stream().filter(Host::running).forEach(h -> h.slots().stream()
        .filter(s -> s.owner() == null && !liveSpareIds.contains(s.slot().slotId()))
        .forEach(s -> mayBeClaimed.add(s.slot().slotId())));
    Map<String, ClaimedSlot> claimed = mayBeClaimed.isEmpty() ? Map.of() : lookups.claimsOf(mayBeClaimed);
    for (Host h : newestFirst) {
      boolean owned = h.owned();
      for (SlotStatus s : h.slots()) {
        if (s.owner() != null && !users.contains(s.owner())) {
          add(strays, s);
        } else if (s.owner() != null && slotsOwned.get(s.owner()) > 1) {
          String kept = lookups.sessionSlotOf(s.owner());
          if (kept != null && !kept.equals(s.slot().slotId())) {
            add(leftBehind, s);
          }
        }
      }
      if (h.running() && h.scaleInProtected() && !owned && !h.slots().isEmpty()
          && h.slots().stream().noneMatch(s -> claimed.containsKey(s.slot().slotId()))) {
        add(unprotect, h.slots().get(0).slot());
      }
      for (SlotStatus s : h.slots()) {
        ClaimedSlot c = claimed.get(s.slot().slotId());
        if (c != null && c.user() != null) {
          add(claims, c);
        }
      }
      if (h.running() && owned && !h.scaleInProtected()) {
        add(unprotected, h.hostId());
      }
      if (h.running() && !owned && !h.scaleInProtected() && scaleInSlots < PassView.SCALE_IN_SLOTS) {
        scaleIn.add(new HostSlots(h.hostId(), slotsOf(h)));
        scaleInSlots += h.slots().size();
      }
      if (h.running()) {
        for (SlotStatus s : h.slots()) {
          if (probeable(s, template, quarantined) && !liveSpareIds.contains(s.slot().slotId())
              && newcomers.size() < PassView.MAX_PROBES) {
            newcomers.add(new ProbeCandidate(s.slot(), false, owned, h.slots().size()));
          }
        }
      }
    }

    List<ProbeCandidate> probe = new ArrayList<>(newcomers);
    List<String> sparesToProbe = liveSpares.stream()
        .filter(id -> hostOf.get(id).running() && probeable(bySlot.get(id), template, quarantined)).sorted().toList();
    int room = Math.min(PassView.MAX_PROBES - probe.size(), sparesToProbe.size());
    for (int i = 0; i < room; i++) {
      String id = sparesToProbe.get(Math.floorMod(probeOffset + i, sparesToProbe.size()));
      Host h = hostOf.get(id);
      probe.add(new ProbeCandidate(bySlot.get(id).slot(), true, h.owned(), h.slots().size()));
    }

    List<HostSlots> quarantinedHosts = new ArrayList<>();
    Set<String> going = new LinkedHashSet<>();
    for (String id : pool.quarantined()) {
      Host h = hostOf.get(id);
      if (h != null && !h.owned() && going.add(h.hostId()) && quarantinedHosts.size() < PassView.MAX_LISTED) {
        quarantinedHosts.add(new HostSlots(h.hostId(), slotsOf(h)));
      }
    }
    Set<String> listedGoing = new HashSet<>();
    quarantinedHosts.forEach(q -> listedGoing.add(q.hostId()));
    List<String> cleared = new ArrayList<>();
    for (String id : pool.quarantined()) {
      Host h = hostOf.get(id);
      if (h == null || listedGoing.contains(h.hostId())) {
        add(cleared, id);
      }
    }
    List<Host> detail = slots <= PassView.DETAIL_SLOTS ? fleet.hosts() : List.of();
    return new PassView(fleet.desired(), fleet.min(), fleet.max(), running, launching, slots, active, spares,
        pool.users().size(), deadSpares, goneSpares, strays, unprotect, quarantinedHosts, cleared, probe, scaleIn,
        detail, unprotected, claims, leftBehind);
  }

  /** Unowned, alive, of this template and not quarantined: a slot that may serve as a spare. */
  private static boolean probeable(SlotStatus s, String template, Set<String> quarantined) {
    return s.owner() == null && s.alive() && !quarantined.contains(s.slot().slotId())
        && template.equals(s.slot().template());
  }

  private static List<Slot> slotsOf(Host h) {
    return h.slots().stream().map(SlotStatus::slot).toList();
  }

  private static <T> void add(List<T> capped, T item) {
    if (capped.size() < PassView.MAX_LISTED) {
      capped.add(item);
    }
  }
}
