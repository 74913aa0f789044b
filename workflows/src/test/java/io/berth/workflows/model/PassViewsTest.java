package io.berth.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.common.converter.DefaultDataConverter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a controller pass carries through history, at 10,000 slots and in the small. */
class PassViewsTest {
  private static final long LIMIT = 512 * 1024; // Temporal's default payload warning; the error is at 2 MB

  /** {@code hosts} hosts of {@code slotsPerHost}; slot i is owned by user-i when i < owned, dead when in {@code dead}. */
  private static FleetSnapshot fleet(int hosts, int slotsPerHost, int owned, Set<String> dead) {
    List<Host> list = new ArrayList<>();
    int n = 0;
    for (int h = 0; h < hosts; h++) {
      // EC2-like ids: the longest a provider gives.
      String id = String.format("i-%017x", 0x1000000L + h);
      List<SlotStatus> slots = new ArrayList<>();
      boolean ownedHost = false;
      for (int i = 0; i < slotsPerHost; i++, n++) {
        Slot s = new Slot(Slot.idOf(id, i), id, i, "10.0." + (h / 250) + "." + (h % 250), 8080 + i, "demo");
        String owner = n < owned ? "user-" + n + "@example.com" : null;
        ownedHost |= owner != null;
        slots.add(new SlotStatus(s, owner, !dead.contains(s.slotId())));
      }
      list.add(new Host(id, "RUNNING", slots.get(0).slot().address(), ownedHost, 1_700_000_000_000L + h, slots));
    }
    return new FleetSnapshot(hosts, 0, hosts, list);
  }

  private static PoolState pool(FleetSnapshot f, boolean sessions) {
    List<String> spares = new ArrayList<>();
    List<String> users = new ArrayList<>();
    f.hosts().forEach(h -> h.slots().forEach(s -> {
      if (s.owner() == null) {
        spares.add(s.slot().slotId());
      } else if (sessions) {
        users.add(s.owner());
      }
    }));
    return new PoolState(spares, List.of(), users);
  }

  private static long bytes(Object o) {
    return DefaultDataConverter.newDefaultInstance().toPayload(o).orElseThrow().getSerializedSize();
  }

  @Test
  void tenThousandOneSlotHostsStayWellUnderTheLimit() {
    FleetSnapshot f = fleet(10_000, 1, 9_950, Set.of());
    long full = bytes(f) + bytes(pool(f, true));
    PassView v = PassViews.of(f, pool(f, true), "demo", 0);
    long compact = bytes(v);
    System.out.printf("10,000 one-slot hosts, 50 spares: describeFleet + poolState %,d KB, passView %,d KB%n",
        full / 1024, compact / 1024);
    assertTrue(full > 2 * 1024 * 1024, "the old pass moved " + full + " bytes");
    assertTrue(compact < 32 * 1024, compact + " bytes");
    assertEquals(9_950, v.activeSlots());
    assertEquals(50, v.spares());
    assertEquals(50, v.probe().size());
    assertEquals(List.of(), v.hosts(), "no per-host detail past " + PassView.DETAIL_SLOTS + " slots");
  }

  @Test
  void theWorstCasesAreCappedUnderTheLimit() {
    // Every slot a spare: probes and scale-in candidates are capped.
    FleetSnapshot idle = fleet(10_000, 1, 0, Set.of());
    PassView v = PassViews.of(idle, pool(idle, true), "demo", 0);
    assertEquals(PassView.MAX_PROBES, v.probe().size());
    assertEquals(PassView.SCALE_IN_SLOTS, v.scaleIn().size());
    assertTrue(bytes(v) < LIMIT, bytes(v) + " bytes");
    // Redis lost its data: every owner is a stray, every spare gone from the pool.
    FleetSnapshot owned = fleet(10_000, 1, 10_000, Set.of());
    PassView lost = PassViews.of(owned, new PoolState(List.of(), List.of(), List.of()), "demo", 0);
    assertEquals(PassView.MAX_LISTED, lost.strayOwners().size());
    assertTrue(bytes(lost) < LIMIT, bytes(lost) + " bytes");
    // 157 local hosts of 64 slots, half of them in use.
    FleetSnapshot local = fleet(157, 64, 5_000, Set.of());
    PassView l = PassViews.of(local, pool(local, true), "demo", 0);
    assertTrue(bytes(l) < LIMIT, bytes(l) + " bytes");
    System.out.printf("all spares %,d KB; Redis lost %,d KB; 157 x 64 local %,d KB%n", bytes(v) / 1024,
        bytes(lost) / 1024, bytes(l) / 1024);
  }

  @Test
  void theViewListsWhatAPassActsOn() {
    String a = String.format("i-%017x", 0x1000000L);
    String b = String.format("i-%017x", 0x1000001L);
    String c = String.format("i-%017x", 0x1000002L);
    String d = String.format("i-%017x", 0x1000003L);
    // hosts a (owned by user-0), b (spare, dead), c (spare, alive), d (newcomer)
    FleetSnapshot f = fleet(4, 1, 1, Set.of(Slot.idOf(b, 0)));
    PoolState pool = new PoolState(List.of(Slot.idOf(b, 0), Slot.idOf(c, 0), "i-gone/0"), List.of(),
        List.of());
    PassView v = PassViews.of(f, pool, "demo", 0);
    assertEquals(List.of(Slot.idOf(b, 0)), v.deadSpares().stream().map(Slot::slotId).toList());
    assertEquals(List.of("i-gone/0"), v.goneSpares());
    assertEquals(1, v.spares());
    assertEquals(List.of("user-0@example.com"), v.strayOwners().stream().map(SlotStatus::owner).toList(),
        "an owner with no session");
    assertEquals(List.of(Slot.idOf(d, 0) + " new", Slot.idOf(c, 0) + " spare"),
        v.probe().stream().map(p -> p.slot().slotId() + (p.spare() ? " spare" : " new")).toList());
    assertEquals(List.of(d, c, b), v.scaleIn().stream().map(PassView.HostSlots::hostId).toList(),
        "unowned, unprotected, newest first");
    assertEquals(4, v.hosts().size(), "a small fleet keeps its detail for the status");
  }

  @Test
  void onlyOwnersWithASessionCountAsActive() {
    // Three owned slots; only user-0 still has a session: the other two tags are a run that is gone.
    FleetSnapshot f = fleet(4, 1, 3, Set.of());
    PoolState pool = new PoolState(List.of(), List.of(), List.of("user-0@example.com"));
    PassView v = PassViews.of(f, pool, "demo", 0);
    assertEquals(1, v.activeSlots(), "a stray tag is recycled, not sized for");
    assertEquals(2, v.strayOwners().size());
  }
}
