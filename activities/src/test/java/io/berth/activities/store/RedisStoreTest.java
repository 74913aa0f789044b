package io.berth.activities.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.testkit.RedisPerClass;
import io.berth.workflows.activities.FleetActivities;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClient;

class RedisStoreTest {
  private static final String T = "demo";
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();
  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private RecordingFleet fleet;
  private RedisStore store;

  @BeforeEach
  void fresh() {
    fleet = new RecordingFleet();
    store = new RedisStore(redis, keys, fleet);
  }

  private static Slot slot(int host, int index) {
    String h = "h-" + host;
    return new Slot(Slot.idOf(h, index), h, index, "127.0.0.1", 50_000 + host * 10 + index, T);
  }

  private static List<Slot> slots(int n) {
    return IntStream.range(0, n).mapToObj(i -> slot(i / 2 + 1, i % 2)).toList();
  }

  @Test
  void concurrentClaimsTakeEachSpareOnce() throws Exception {
    int spares = 5;
    int claimers = 20;
    store.addSpares(T, slots(spares));
    ExecutorService pool = Executors.newFixedThreadPool(claimers);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Slot>> results = new ArrayList<>();
    for (int i = 0; i < claimers; i++) {
      String rid = "req-" + i;
      results.add(pool.submit(() -> {
        go.await();
        return store.claimSpare(new ClaimRequest(rid, "user" + rid, T));
      }));
    }
    go.countDown();
    List<Slot> got = new ArrayList<>();
    for (Future<Slot> f : results) {
      got.add(f.get(30, TimeUnit.SECONDS));
    }
    pool.shutdown();
    List<Slot> won = got.stream().filter(Objects::nonNull).toList();
    assertEquals(spares, won.size(), "every spare claimed once");
    assertEquals(spares, won.stream().map(Slot::slotId).distinct().count(), "no spare claimed twice");
    assertEquals(Set.copyOf(slots(spares)), Set.copyOf(won), "slot details come back as added");
    assertTrue(store.poolState(T).spares().isEmpty());

    assertEquals(spares, store.claimsTotal(T), "each successful claim counted once");
    for (int i = 0; i < claimers; i++) {
      Slot again = store.claimSpare(new ClaimRequest("req-" + i, "x", T));
      assertEquals(got.get(i), again, "a retried claim returns what the first attempt got");
    }
  }

  @Test
  void eachTemplatesPassViewHasItsOwnHostsSparesAndClaimsTotal() {
    Slot shell = new Slot("h-9/0", "h-9", 0, "127.0.0.1", 50_900, "shell");
    fleet.hosts.put("h-1", List.of(slot(1, 0), slot(1, 1)));
    fleet.hosts.put("h-9", List.of(shell));
    store.addSpares(T, List.of(slot(1, 0), slot(1, 1)));
    store.addSpares("shell", List.of(shell));

    assertEquals(shell, store.claimSpare(new ClaimRequest("s1", "alice", "shell")));
    assertEquals(shell, store.claimSpare(new ClaimRequest("s1", "alice", "shell")), "a retried claim");
    assertNull(store.claimSpare(new ClaimRequest("s2", "bob", "shell")), "the shell pool is empty");
    assertNotNull(store.claimSpare(new ClaimRequest("d1", "carol", T)));

    var shellView = store.passView("shell", 0);
    assertEquals(List.of("h-9"), shellView.hosts().stream().map(h -> h.hostId()).toList());
    assertEquals(1, shellView.slots());
    assertEquals(0, shellView.spares());
    assertEquals(1, shellView.claimsTotal(), "one claim, counted once; the empty pool's miss is no claim");
    var demoView = store.passView(T, 0);
    assertEquals(List.of("h-1"), demoView.hosts().stream().map(h -> h.hostId()).toList());
    assertEquals(2, demoView.slots());
    assertEquals(1, demoView.spares());
    assertEquals(1, demoView.claimsTotal());
    assertEquals(0, store.passView("other", 0).claimsTotal());
  }

  @Test
  void retriedClaimKeepsItsSlotWhenThePoolRefills() {
    store.addSpares(T, List.of(slot(1, 0)));
    Slot first = store.claimSpare(new ClaimRequest("r1", "alice", T));
    store.addSpares(T, List.of(slot(2, 0)));
    assertEquals(first, store.claimSpare(new ClaimRequest("r1", "alice", T)));
    assertEquals(List.of(slot(2, 0).slotId()), store.poolState(T).spares());
  }

  @Test
  void claimedSlotIsNotReaddedToThePoolUntilTheClaimIsGone() {
    Slot s = slot(1, 0);
    store.addSpares(T, List.of(s));
    assertEquals(s, store.claimSpare(new ClaimRequest("r1", "alice", T)));
    store.addSpares(T, List.of(s));
    assertTrue(store.poolState(T).spares().isEmpty(), "a claimed, not yet tagged slot stays out of the pool");
    store.forgetClaim("r1");
    store.forgetClaim("r1");
    assertNull(redis.get(keys.claim("r1")));
    store.addSpares(T, List.of(s));
    assertEquals(List.of(s.slotId()), store.poolState(T).spares());
  }

  @Test
  void thePassViewListsClaimsWithoutAnOwnerWithTheirUser() {
    Slot s = slot(1, 0);
    Slot t = slot(2, 0);
    fleet.hosts.put(s.hostId(), List.of(s));
    fleet.hosts.put(t.hostId(), List.of(t));
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    store.addSpares(T, List.of(t));
    store.claimSpare(new ClaimRequest("r2", "bob", T));
    fleet.owners.put(t.slotId(), "bob"); // tagged: its workflow's own teardown will undo it

    assertEquals(List.of(new ClaimedSlot(s.slotId(), "r1", "alice")), store.passView(T, 0).claims());
    store.unclaim("r1", false);
    assertEquals(List.of(), store.passView(T, 0).claims());
    assertNull(redis.hget(keys.slot(s.slotId()), "claimedFor"));
  }

  @Test
  void thePassViewListsASlotTaggedWithAUserWhoseSessionIsElsewhere() {
    Slot kept = slot(1, 0);
    Slot behind = slot(2, 0);
    Slot other = slot(3, 0);
    fleet.hosts.put(kept.hostId(), List.of(kept));
    fleet.hosts.put(behind.hostId(), List.of(behind));
    fleet.hosts.put(other.hostId(), List.of(other));
    List.of(kept, behind).forEach(s -> fleet.owners.put(s.slotId(), "dan"));
    fleet.owners.put(other.slotId(), "eve");
    redis.hset(keys.workspace("dan"), "slotId", kept.slotId());
    redis.hset(keys.workspace("eve"), "slotId", other.slotId());
    redis.sadd(keys.users(), "dan", "eve");

    assertEquals(List.of(behind.slotId()),
        store.passView(T, 0).leftBehind().stream().map(s -> s.slot().slotId()).toList());
  }

  /** The controller gives an orphan's slot back: the dead workflow's claim must not keep it out of the pool. */
  @Test
  void anOrphansClaimIsDroppedBySlot() {
    Slot s = slot(1, 0);
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("dead", "alice", T));
    assertTrue(store.claimed(s.slotId()));
    store.forgetClaimOf(s.slotId());
    store.forgetClaimOf(s.slotId());
    assertFalse(store.claimed(s.slotId()));
    assertNull(redis.get(keys.claim("dead")));
    store.addSpares(T, List.of(s));
    assertEquals(List.of(s.slotId()), store.poolState(T).spares());

    // A claim record that points elsewhere by now is someone's live claim: only the slot's stale mark goes.
    assertEquals(s, store.claimSpare(new ClaimRequest("r2", "bob", T)));
    redis.set(keys.claim("r2"), slot(2, 0).slotId());
    store.forgetClaimOf(s.slotId());
    assertEquals(slot(2, 0).slotId(), redis.get(keys.claim("r2")));
  }

  @Test
  void unclaimRecyclesTheSlotThroughTheFleetOnce() {
    Slot s = slot(1, 0);
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    store.unclaim("r1", false);
    store.unclaim("r1", false);
    store.unclaim("never-claimed", false);
    assertEquals(List.of(new RecordingFleet.Call("revoke", s.slotId(), null, null),
        new RecordingFleet.Call("recycle", s.slotId(), null, null)), fleet.calls());
    assertNull(redis.get(keys.claim("r1")));
    PoolState p = store.poolState(T);
    assertTrue(p.quarantined().isEmpty());
    assertTrue(p.spares().isEmpty(), "the recycled slot rejoins only after the capacity workflow probes it");
    store.addSpares(T, List.of(s));
    assertEquals(List.of(s.slotId()), store.poolState(T).spares());
  }

  /** A slot claimed twice (Redis lost the claim mark in between): the loser's undo leaves the owner's workspace alone. */
  @Test
  void unclaimNeverRecyclesASlotSomeoneElseOwns() {
    Slot s = slot(1, 0);
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    fleet.owners.put(s.slotId(), "bob");
    store.unclaim("r1", false);
    assertTrue(fleet.calls().isEmpty(), "bob's workspace was not recycled: " + fleet.calls());
    assertNull(redis.get(keys.claim("r1")));
  }

  @Test
  void unclaimQuarantinesABrokenSlot() {
    Slot s = slot(1, 0);
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    store.unclaim("r1", true);
    store.unclaim("r1", true);
    assertTrue(fleet.calls().isEmpty(), "a quarantined slot is not recycled");
    assertEquals(List.of(s.slotId()), store.poolState(T).quarantined());
    assertNull(redis.get(keys.claim("r1")));
    store.addSpares(T, List.of(s));
    assertTrue(store.poolState(T).spares().isEmpty(), "quarantined slots do not rejoin the pool");
    store.clearQuarantine(List.of(s.slotId()));
    assertTrue(store.poolState(T).quarantined().isEmpty());
  }

  /**
   * Tag and protect run side by side: for a moment (or, when the worker died, for a retry timeout)
   * a saga's host is protected with no owner. The controller must not take that for an orphan's
   * protection, neither when it decides from its view nor when its undo runs later.
   */
  @Test
  void aHostProtectedForAClaimKeepsItsProtectionUntilTheClaimIsGone() {
    Slot s = slot(1, 0);
    fleet.hosts.put(s.hostId(), List.of(s));
    store.addSpares(T, List.of(s));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    FleetActivitiesImpl steps = new FleetActivitiesImpl(fleet, store::claimed);
    steps.protectHost("r1", s.hostId());

    assertTrue(store.passView(T, 0).unprotect().isEmpty(), "a claimed host is not an orphan");
    steps.unprotectHost(FleetActivities.HOST_WIDE, s); // decided before the claim, run after it
    assertTrue(fleet.protectedHosts.contains(s.hostId()));

    fleet.owners.put(s.slotId(), "alice");
    store.forgetClaim("r1");
    steps.unprotectHost(FleetActivities.HOST_WIDE, s);
    assertTrue(fleet.protectedHosts.contains(s.hostId()), "the controller's undo counts the named slot's owner");

    fleet.owners.remove(s.slotId());
    assertEquals(List.of(s), store.passView(T, 0).unprotect());
    steps.unprotectHost(FleetActivities.HOST_WIDE, s);
    assertFalse(fleet.protectedHosts.contains(s.hostId()), "protection nothing holds is cleared");
  }

  /**
   * A quarantine is decided on a view, after probes that take seconds: a saga may claim and tag
   * another slot of the host meanwhile. The host is kept while any slot is claimed or owned.
   */
  @Test
  void aHostIsTerminatedOnlyWhenNoSlotIsClaimedOrOwnedWhenItRuns() {
    Slot broken = slot(1, 0);
    Slot taken = slot(1, 1);
    fleet.hosts.put(broken.hostId(), List.of(broken, taken));
    store.addSpares(T, List.of(taken));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    FleetActivitiesImpl steps = new FleetActivitiesImpl(fleet, store::claimed);

    steps.terminateHost(broken.hostId(), false);
    assertTrue(fleet.hosts.containsKey(broken.hostId()), "claimed: kept");
    fleet.owners.put(taken.slotId(), "alice");
    store.forgetClaim("r1");
    steps.terminateHost(broken.hostId(), false);
    assertTrue(fleet.hosts.containsKey(broken.hostId()), "owned: kept");
    fleet.owners.remove(taken.slotId());
    steps.terminateHost(broken.hostId(), false);
    assertFalse(fleet.hosts.containsKey(broken.hostId()), "empty: terminated");
  }

  @Test
  void aSagaUndoesItsOwnProtectionButNotAnotherSlotsClaim() {
    Slot mine = slot(1, 0);
    Slot other = slot(1, 1);
    fleet.hosts.put(mine.hostId(), List.of(mine, other));
    store.addSpares(T, List.of(mine));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    FleetActivitiesImpl steps = new FleetActivitiesImpl(fleet, store::claimed);
    steps.protectHost("r1", mine.hostId());
    fleet.owners.put(mine.slotId(), "alice"); // the undo of the tag may come after this one
    store.addSpares(T, List.of(other));
    store.claimSpare(new ClaimRequest("r2", "bob", T));

    steps.unprotectHost("r1", mine);
    assertTrue(fleet.protectedHosts.contains(mine.hostId()), "bob's saga holds the host");
    store.forgetClaim("r2");
    steps.unprotectHost("r1", mine);
    assertFalse(fleet.protectedHosts.contains(mine.hostId()));
  }

  @Test
  void theControllersRepairProtectsOnlyAHostStillOwnedWhenItRuns() {
    Slot s = slot(1, 0);
    fleet.hosts.put(s.hostId(), List.of(s));
    FleetActivitiesImpl steps = new FleetActivitiesImpl(fleet, store::claimed);
    steps.protectHost(FleetActivities.HOST_WIDE, s.hostId()); // the teardown finished since the view
    assertFalse(fleet.protectedHosts.contains(s.hostId()));
    fleet.owners.put(s.slotId(), "alice");
    assertEquals(List.of(s.hostId()), store.passView(T, 0).unprotected());
    steps.protectHost(FleetActivities.HOST_WIDE, s.hostId());
    assertTrue(fleet.protectedHosts.contains(s.hostId()));
    assertEquals(List.of(), store.passView(T, 0).unprotected());
  }

  @Test
  void emptyPoolGivesNull() {
    assertNull(store.claimSpare(new ClaimRequest("r1", "alice", T)));
    assertNull(redis.get(keys.claim("r1")));
  }

  @Test
  void removeSparesAnswersWhatWasStillThere() {
    store.addSpares(T, slots(3));
    store.claimSpare(new ClaimRequest("r1", "alice", T));
    List<String> all = slots(3).stream().map(Slot::slotId).toList();
    List<String> removed = store.removeSpares(T, all);
    assertEquals(2, removed.size(), "the claimed one was no longer there");
    assertTrue(store.poolState(T).spares().isEmpty());
    assertEquals(List.of(), store.removeSpares(T, all));
  }

  private Session session(String user, String workspaceId, Slot slot, long allocatedAt) {
    return new Session("req-" + workspaceId, user, workspaceId, "label", "http://x.berth.localhost/",
        slot, T, allocatedAt, allocatedAt + 60_000, allocatedAt + 3_600_000, 60_000, "READY");
  }

  @Test
  void storeSessionWritesTheReadModelAndDeliversAToken() {
    Slot s = slot(1, 0);
    long at = System.currentTimeMillis();
    store.storeSession(session("alice", "w1", s, at));

    Map<String, String> ws = redis.hgetAll(keys.workspace("alice"));
    assertEquals("w1", ws.get("workspaceId"));
    assertEquals("h-1/0", ws.get("slotId"));
    assertEquals("h-1", ws.get("hostId"));
    assertEquals(String.valueOf(s.port()), ws.get("port"));
    assertEquals("READY", ws.get("state"));
    assertEquals(String.valueOf(at), ws.get("allocatedAt"));
    assertEquals(String.valueOf(at), ws.get("lastSeen"));
    assertEquals("60000", ws.get("idleTimeoutMs"));
    assertTrue(redis.sismember(keys.users(), "alice"));
    assertEquals(at, store.lastActivity("alice"));
    assertEquals(1, store.poolState(T).sessions());

    List<String> tokens = fleet.tokens();
    assertEquals(1, tokens.size());
    String token = tokens.get(0);
    assertTrue(token.matches("[A-Za-z0-9_-]{43}"), "32 random bytes, base64url");
    String hash = Labels.sha256Hex(token);
    assertEquals(hash, ws.get("tokenHash"));
    assertEquals(Map.of("user", "alice", "workspaceId", "w1"), redis.hgetAll(keys.heartbeatToken(hash)));
    assertTrue(redis.pttl(keys.heartbeatToken(hash)) > 0, "the token expires after the max lifetime");
    for (String k : redis.keys("*")) {
      if (redis.type(k).equals("hash")) {
        assertFalse(redis.hgetAll(k).containsValue(token), "the token itself is never stored: " + k);
      }
    }
  }

  @Test
  void retriedStoreSessionLeavesOneValidToken() {
    Session s = session("alice", "w1", slot(1, 0), System.currentTimeMillis());
    store.storeSession(s);
    store.storeSession(s);
    List<String> tokens = fleet.tokens();
    assertEquals(2, tokens.size());
    assertNotEquals(tokens.get(0), tokens.get(1));
    assertFalse(redis.exists(keys.heartbeatToken(Labels.sha256Hex(tokens.get(0)))), "the first token is revoked");
    assertTrue(redis.exists(keys.heartbeatToken(Labels.sha256Hex(tokens.get(1)))));
    assertEquals(1, redis.keys(keys.heartbeatToken("*")).size());
  }

  @Test
  void restoreSessionKeepsAnIntactSessionAndItsTokenAndWritesALostOne() {
    Session s = session("alice", "w1", slot(1, 0), System.currentTimeMillis());
    store.storeSession(s);
    store.restoreSession(s);
    assertEquals(1, fleet.tokens().size(), "intact: no new token, the slot keeps its own");
    assertTrue(redis.exists(keys.heartbeatToken(Labels.sha256Hex(fleet.tokens().get(0)))));

    redis.del(keys.workspace("alice"), keys.users(), keys.heartbeatToken(Labels.sha256Hex(fleet.tokens().get(0))));
    store.restoreSession(s);
    assertEquals(2, fleet.tokens().size(), "lost: written again with a fresh token");
    assertEquals("w1", redis.hget(keys.workspace("alice"), "workspaceId"));
    assertTrue(redis.sismember(keys.users(), "alice"));

    store.restoreSession(session("alice", "w2", slot(1, 0), System.currentTimeMillis()));
    assertEquals(3, fleet.tokens().size(), "another workspace's session is not this one's");
  }

  @Test
  void storeSessionKeepsALaterPing() {
    long now = System.currentTimeMillis();
    redis.zadd(keys.pings(), now + 5_000, "alice");
    store.storeSession(session("alice", "w1", slot(1, 0), now));
    assertEquals(now + 5_000, store.lastActivity("alice"));
    assertEquals(String.valueOf(now + 5_000), redis.hget(keys.workspace("alice"), "lastSeen"));
  }

  @Test
  void aSessionHoldsItsPlaceInTheUsersWorkspacesAndItsDeleteFreesIt() {
    long now = System.currentTimeMillis();
    String dev = Labels.workspaceKey("zoe", "dev");
    redis.zadd(keys.userWorkspaces("zoe"), now + 60_000, dev); // the API's pending reservation
    store.storeSession(session(dev, "w1", slot(1, 0), now));
    store.storeSession(session("zoe", "w2", slot(1, 1), now));
    assertEquals(Double.POSITIVE_INFINITY, redis.zscore(keys.userWorkspaces("zoe"), dev));
    assertEquals(Double.POSITIVE_INFINITY, redis.zscore(keys.userWorkspaces("zoe"), "zoe"));
    assertEquals("w1", redis.hget(keys.workspace(dev), "workspaceId"));

    store.deleteSession("zoe", "other-run"); // not this session's run: its place stays
    assertEquals(Double.POSITIVE_INFINITY, redis.zscore(keys.userWorkspaces("zoe"), "zoe"));
    store.deleteSession(dev, "w1");
    assertEquals(List.of("zoe"), redis.zrange(keys.userWorkspaces("zoe"), 0, -1));

    // a saga undone before its session was stored drops its pending reservation
    String x = Labels.workspaceKey("zoe", "x");
    redis.zadd(keys.userWorkspaces("zoe"), now + 60_000, x);
    store.deleteSession(x, "w3");
    assertNull(redis.zscore(keys.userWorkspaces("zoe"), x));
  }

  @Test
  void deleteSessionOfAnOlderWorkspaceLeavesTheNewerOne() {
    long now = System.currentTimeMillis();
    store.storeSession(session("alice", "w1", slot(1, 0), now));
    store.storeSession(session("alice", "w2", slot(2, 0), now + 1_000));
    String oldHash = Labels.sha256Hex(fleet.tokens().get(0));
    String newHash = Labels.sha256Hex(fleet.tokens().get(1));
    assertFalse(redis.exists(keys.heartbeatToken(oldHash)), "a new session revokes the old token");

    store.deleteSession("alice", "w1");
    assertEquals("w2", redis.hget(keys.workspace("alice"), "workspaceId"));
    assertTrue(redis.exists(keys.heartbeatToken(newHash)));
    assertTrue(redis.sismember(keys.users(), "alice"));
    assertEquals(now + 1_000, store.lastActivity("alice"));

    store.deleteSession("alice", "w2");
    store.deleteSession("alice", "w2");
    assertFalse(redis.exists(keys.workspace("alice")));
    assertFalse(redis.exists(keys.heartbeatToken(newHash)));
    assertFalse(redis.sismember(keys.users(), "alice"));
    assertEquals(0, store.lastActivity("alice"));
    assertEquals(0, store.poolState(T).sessions());
  }

  @Test
  void invalidInputIsRejectedWithoutRetry() {
    ApplicationFailure f = assertThrows(ApplicationFailure.class,
        () -> store.claimSpare(new ClaimRequest("../etc", "alice", T)));
    assertEquals("InvalidInput", f.getType());
    assertTrue(f.isNonRetryable());
    assertThrows(ApplicationFailure.class, () -> store.claimSpare(new ClaimRequest("r1", "alice", "Bad Template")));
    assertThrows(ApplicationFailure.class,
        () -> store.storeSession(session("bad\nuser", "w1", slot(1, 0), System.currentTimeMillis())));
    assertThrows(ApplicationFailure.class, () -> store.addSpares(T,
        List.of(new Slot("../../x", "h-1", 0, "127.0.0.1", 1, T))));
    assertEquals(new HashSet<>(), redis.keys("*"));
  }
}
