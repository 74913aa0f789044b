package io.berth.activities.store;

import io.berth.activities.fleet.Fleet;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.PassLookups;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PassViews;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import redis.clients.jedis.UnifiedJedis;

/**
 * The Redis side of a workspace: the atomic spare pool, claims, and the session read model the
 * API serves. Multi-key steps run as Lua scripts so that a retried or concurrent activity never
 * sees half a write.
 *
 * <p>A claimed slot carries {@code claimedBy} in its {@code slot:<id>} hash until the claim is
 * undone or forgotten, so that {@link #addSpares} cannot put a claimed slot back in the pool
 * while its owner tag is not written yet.
 */
public final class RedisStore implements StoreActivities, PassLookups {
  static final String INVALID_INPUT = "InvalidInput";
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");
  private static final Pattern SLOT_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}/[0-9]{1,4}");
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * KEYS: the claim, the template's pool, its claims counter. A new claim counts once (a retried
   * claim finds its record and counts nothing), in the same step as the SPOP.
   */
  private static final String CLAIM = """
      local id = redis.call('GET', KEYS[1])
      if not id then
        id = redis.call('SPOP', KEYS[2])
        if not id then return false end
        redis.call('SET', KEYS[1], id)
        redis.call('HSET', ARGV[1] .. id, 'claimedBy', ARGV[2], 'claimedFor', ARGV[3])
        redis.call('INCR', KEYS[3])
      end
      return id
      """;

  /** Deletes the claim and the slot's claim mark, only if the mark is still this request's. */
  private static final String FORGET_CLAIM = """
      local id = redis.call('GET', KEYS[1])
      if not id then return 0 end
      if redis.call('HGET', ARGV[1] .. id, 'claimedBy') == ARGV[2] then
        redis.call('HDEL', ARGV[1] .. id, 'claimedBy', 'claimedFor')
      end
      redis.call('DEL', KEYS[1])
      return 1
      """;

  /** KEYS: the slot. ARGV: claim prefix, slot id. The claim record goes only while it still points at the slot. */
  private static final String FORGET_CLAIM_OF = """
      local by = redis.call('HGET', KEYS[1], 'claimedBy')
      if not by then return 0 end
      if redis.call('GET', ARGV[1] .. by) == ARGV[2] then redis.call('DEL', ARGV[1] .. by) end
      redis.call('HDEL', KEYS[1], 'claimedBy', 'claimedFor')
      return 1
      """;

  /** ARGV: slot prefix, claim prefix, slot ids. Returns (slot id, request, user or "")* of the claims that hold them. */
  private static final String CLAIMS_OF = """
      local out = {}
      for i = 3, #ARGV do
        local mark = redis.call('HMGET', ARGV[1] .. ARGV[i], 'claimedBy', 'claimedFor')
        if mark[1] and redis.call('GET', ARGV[2] .. mark[1]) == ARGV[i] then
          out[#out + 1] = ARGV[i]
          out[#out + 1] = mark[1]
          out[#out + 1] = mark[2] or ''
        end
      end
      return out
      """;

  /**
   * KEYS: ws, users, pings, new hb, the user's workspaces. ARGV: hb prefix, key, workspaceId, tokenHash,
   * allocatedAt, expireAt, fields... A stored session holds its place in the user's workspaces for
   * good ({@code +inf}): the API's pending reservation becomes permanent, and a resync after Redis
   * lost its data puts the place back.
   */
  private static final String STORE_SESSION = """
      local old = redis.call('HGET', KEYS[1], 'tokenHash')
      if old and old ~= ARGV[4] then redis.call('DEL', ARGV[1] .. old) end
      local seen = tonumber(ARGV[5])
      local ping = redis.call('ZSCORE', KEYS[3], ARGV[2])
      if ping and tonumber(ping) > seen then seen = tonumber(ping) end
      redis.call('DEL', KEYS[1])
      redis.call('HSET', KEYS[1], 'tokenHash', ARGV[4], 'lastSeen', string.format('%d', seen), unpack(ARGV, 7))
      redis.call('DEL', KEYS[4])
      redis.call('HSET', KEYS[4], 'user', ARGV[2], 'workspaceId', ARGV[3])
      redis.call('PEXPIREAT', KEYS[4], ARGV[6])
      redis.call('SADD', KEYS[2], ARGV[2])
      redis.call('ZADD', KEYS[3], string.format('%d', seen), ARGV[2])
      redis.call('ZADD', KEYS[5], '+inf', ARGV[2])
      return 1
      """;

  /**
   * KEYS: ws, users, pings, the user's workspaces. ARGV: hb prefix, key, workspaceId. Without this
   * run's session (the saga failed before storing it) only a pending reservation (a finite score)
   * is dropped: a held place belongs to a session of another run.
   */
  private static final String DELETE_SESSION = """
      if redis.call('HGET', KEYS[1], 'workspaceId') ~= ARGV[3] then
        local held = redis.call('ZSCORE', KEYS[4], ARGV[2])
        if held and held ~= 'inf' and redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[4], ARGV[2]) end
        return 0
      end
      local t = redis.call('HGET', KEYS[1], 'tokenHash')
      if t then redis.call('DEL', ARGV[1] .. t) end
      redis.call('DEL', KEYS[1])
      redis.call('SREM', KEYS[2], ARGV[2])
      redis.call('ZREM', KEYS[3], ARGV[2])
      redis.call('ZREM', KEYS[4], ARGV[2])
      return 1
      """;

  /** KEYS: pool, quarantine. ARGV: slot prefix, claim prefix, then (id, hostId, index, address, port, template)*. */
  private static final String ADD_SPARES = """
      for i = 3, #ARGV, 6 do
        local key = ARGV[1] .. ARGV[i]
        redis.call('HSET', key, 'hostId', ARGV[i+1], 'index', ARGV[i+2], 'address', ARGV[i+3],
          'port', ARGV[i+4], 'template', ARGV[i+5])
        local by = redis.call('HGET', key, 'claimedBy')
        local claimed = by and redis.call('GET', ARGV[2] .. by) == ARGV[i]
        if not claimed then
          if by then redis.call('HDEL', key, 'claimedBy', 'claimedFor') end
          if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then redis.call('SADD', KEYS[1], ARGV[i]) end
        end
      end
      return 1
      """;

  private static final String REMOVE_SPARES = """
      local removed = {}
      for i = 1, #ARGV do
        if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then removed[#removed + 1] = ARGV[i] end
      end
      return removed
      """;

  /** A heartbeat token outlives its workspace's max lifetime by this much at most. */
  private static final long TOKEN_GRACE_MILLIS = 3_600_000;

  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final Fleet fleet;

  public RedisStore(UnifiedJedis redis, RedisKeys keys, Fleet fleet) {
    this.redis = redis;
    this.keys = keys;
    this.fleet = fleet;
  }

  // ---- pool and claims -------------------------------------------------------------------------

  @Override
  public Slot claimSpare(ClaimRequest request) {
    requireRequestId(request.requestId());
    requireTemplate(request.template());
    Object id = redis.eval(CLAIM, List.of(keys.claim(request.requestId()), keys.pool(request.template()),
        claimsKey(request.template())), List.of(slotPrefix(), request.requestId(), request.user()));
    if (id == null) {
      return null;
    }
    Slot slot = slotOf((String) id);
    if (slot == null) {
      // A claim made before a crash, asked again after the slot's host was retired.
      throw ApplicationFailure.newNonRetryableFailure("slot " + id + " is gone (it has no description)", "SlotUnknown");
    }
    return slot;
  }

  @Override
  public void unclaim(String requestId, boolean quarantine) {
    requireRequestId(requestId);
    String slotId = redis.get(keys.claim(requestId));
    if (slotId == null) {
      return;
    }
    Slot slot = slotOf(slotId);
    if (quarantine) {
      redis.sadd(keys.quarantine(), slotId);
    } else if (slot != null && fleet.ownerOf(slot) == null) {
      // The claim is deleted only after the fleet took the slot back, so a failed recycle is retried.
      // A slot with an owner by now (our own tag is undone before this) is someone else's
      // workspace: claimed twice after Redis lost the claim mark; it is never recycled under them.
      fleet.revokeCredentials(slot);
      fleet.recycleSlot(slot);
    }
    forgetClaim(requestId);
  }

  @Override
  public void forgetClaimOf(String slotId) {
    requireSlotId(slotId);
    redis.eval(FORGET_CLAIM_OF, List.of(keys.slot(slotId)), List.of(keys.claim(""), slotId));
  }

  /** Teardown: the fleet already recycled the slot; drops the claim record. Idempotent. */
  public void forgetClaim(String requestId) {
    requireRequestId(requestId);
    redis.eval(FORGET_CLAIM, List.of(keys.claim(requestId)), List.of(slotPrefix(), requestId));
  }

  @Override
  public PoolState poolState(String template) {
    requireTemplate(template);
    List<String> spares = new ArrayList<>(redis.smembers(keys.pool(template)));
    List<String> quarantined = new ArrayList<>(redis.smembers(keys.quarantine()));
    spares.sort(null);
    quarantined.sort(null);
    List<String> users = new ArrayList<>(redis.smembers(keys.users()));
    users.sort(null);
    return new PoolState(spares, quarantined, users);
  }

  /**
   * The template's own host group (its hosts, slots, desired and bounds), its pool, and how many of
   * its spares were ever claimed.
   */
  @Override
  public PassView passView(String template, int probeOffset) {
    requireTemplate(template);
    PassView v = PassViews.of(fleet.describe(template), poolState(template), template, probeOffset, this);
    return withClaimsTotal(v, claimsTotal(template));
  }

  /** Spares of the template claimed since Redis began counting: a running total, never reset. */
  public long claimsTotal(String template) {
    requireTemplate(template);
    String n = redis.get(claimsKey(template));
    return n == null ? 0 : Long.parseLong(n);
  }

  /** Beside the pool: {@code claims:<template>}. */
  private String claimsKey(String template) {
    return keys.prefix() + "claims:" + template;
  }

  private static PassView withClaimsTotal(PassView v, long total) {
    return new PassView(v.desired(), v.min(), v.max(), v.runningHosts(), v.launching(), v.slots(), v.activeSlots(),
        v.spares(), v.sessions(), v.deadSpares(), v.goneSpares(), v.strayOwners(), v.unprotect(),
        v.quarantinedHosts(), v.quarantineCleared(), v.probe(), v.scaleIn(), v.hosts(), v.unprotected(), v.claims(),
        v.leftBehind(), total);
  }

  /**
   * Whether a request's claim holds the slot now (its mark names a claim that still points at it). A
   * claim lasts from the claim step to the end of the teardown or the undo, so it covers the moment
   * a saga has protected the host but not yet tagged the slot.
   */
  public boolean claimed(String slotId) {
    return claimOf(slotId) != null;
  }

  /** The claim that holds the slot now, or null; its user is null for a claim made before it was recorded. */
  public ClaimedSlot claimOf(String slotId) {
    return claimsOf(List.of(slotId)).get(slotId);
  }

  @Override
  @SuppressWarnings("unchecked")
  public Map<String, ClaimedSlot> claimsOf(List<String> slotIds) {
    slotIds.forEach(RedisStore::requireSlotId);
    List<String> args = new ArrayList<>(List.of(slotPrefix(), keys.claim("")));
    args.addAll(slotIds);
    List<Object> found = (List<Object>) redis.eval(CLAIMS_OF, List.of(), args);
    Map<String, ClaimedSlot> claims = new HashMap<>();
    for (int i = 0; i + 2 < found.size(); i += 3) {
      String user = found.get(i + 2) instanceof String u && !u.isEmpty() ? u : null;
      claims.put((String) found.get(i), new ClaimedSlot((String) found.get(i), (String) found.get(i + 1), user));
    }
    return claims;
  }

  @Override
  public void addSpares(String template, List<Slot> slots) {
    requireTemplate(template);
    if (slots.isEmpty()) {
      return;
    }
    List<String> args = new ArrayList<>(List.of(slotPrefix(), keys.claim("")));
    for (Slot s : slots) {
      requireSlotId(s.slotId());
      args.addAll(List.of(s.slotId(), s.hostId(), String.valueOf(s.index()), s.address(), String.valueOf(s.port()),
          s.template()));
    }
    redis.eval(ADD_SPARES, List.of(keys.pool(template), keys.quarantine()), args);
  }

  @Override
  @SuppressWarnings("unchecked")
  public List<String> removeSpares(String template, List<String> slotIds) {
    requireTemplate(template);
    if (slotIds.isEmpty()) {
      return List.of();
    }
    return List.copyOf((List<String>) redis.eval(REMOVE_SPARES, List.of(keys.pool(template)), slotIds));
  }

  @Override
  public void clearQuarantine(List<String> slotIds) {
    if (!slotIds.isEmpty()) {
      redis.srem(keys.quarantine(), slotIds.toArray(String[]::new));
    }
  }

  @Override
  public String sessionSlotOf(String user) {
    return redis.hget(keys.workspace(user), "slotId");
  }

  /** The slot as {@link #addSpares} described it, null when unknown. */
  Slot slotOf(String slotId) {
    Map<String, String> h = redis.hgetAll(keys.slot(slotId));
    if (h.isEmpty() || h.get("hostId") == null) {
      return null;
    }
    return new Slot(slotId, h.get("hostId"), Integer.parseInt(h.get("index")), h.get("address"),
        Integer.parseInt(h.get("port")), h.get("template"));
  }

  // ---- sessions --------------------------------------------------------------------------------

  @Override
  public void storeSession(Session s) {
    if (!Labels.validKey(s.user())) {
      throw ApplicationFailure.newNonRetryableFailure("invalid user id", INVALID_INPUT);
    }
    requireRequestId(s.workspaceId());
    String token = newToken();
    String tokenHash = Labels.sha256Hex(token);
    List<String> args = new ArrayList<>(List.of(keys.heartbeatToken(""), s.user(), s.workspaceId(), tokenHash,
        String.valueOf(s.allocatedAtMillis()), String.valueOf(s.expiresAtMillis() + TOKEN_GRACE_MILLIS)));
    sessionFields(s).forEach((k, v) -> {
      args.add(k);
      args.add(v);
    });
    redis.eval(STORE_SESSION,
        List.of(keys.workspace(s.user()), keys.users(), keys.pings(), keys.heartbeatToken(tokenHash),
            keys.userWorkspaces(Labels.userOf(s.user()))), args);
    // After the write: a retry mints a new token, revokes this one and delivers again.
    fleet.deliverCredentials(s.slot(), s.user(), token);
  }

  @Override
  public void restoreSession(Session s) {
    if (!Labels.validKey(s.user())) {
      throw ApplicationFailure.newNonRetryableFailure("invalid user id", INVALID_INPUT);
    }
    List<String> held = redis.hmget(keys.workspace(s.user()), "workspaceId", "tokenHash");
    boolean intact = s.workspaceId().equals(held.get(0)) && held.get(1) != null
        && redis.exists(keys.heartbeatToken(held.get(1))) && redis.sismember(keys.users(), s.user());
    if (!intact) {
      storeSession(s);
    }
  }

  private static Map<String, String> sessionFields(Session s) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("requestId", s.requestId());
    f.put("user", s.user());
    f.put("workspaceId", s.workspaceId());
    f.put("label", s.label());
    f.put("url", s.url());
    f.put("slotId", s.slot().slotId());
    f.put("hostId", s.slot().hostId());
    f.put("address", s.slot().address());
    f.put("port", String.valueOf(s.slot().port()));
    f.put("template", s.template());
    f.put("state", s.state());
    f.put("allocatedAt", String.valueOf(s.allocatedAtMillis()));
    f.put("idleDeadline", String.valueOf(s.idleDeadlineMillis()));
    f.put("expiresAt", String.valueOf(s.expiresAtMillis()));
    f.put("idleTimeoutMs", String.valueOf(s.idleTimeoutMillis()));
    f.values().removeIf(v -> v == null);
    return f;
  }

  @Override
  public void deleteSession(String user, String workspaceId) {
    if (!Labels.validKey(user)) {
      throw ApplicationFailure.newNonRetryableFailure("invalid user id", INVALID_INPUT);
    }
    redis.eval(DELETE_SESSION, List.of(keys.workspace(user), keys.users(), keys.pings(),
            keys.userWorkspaces(Labels.userOf(user))),
        List.of(keys.heartbeatToken(""), user, String.valueOf(workspaceId)));
  }

  @Override
  public long lastActivity(String user) {
    Double score = redis.zscore(keys.pings(), user);
    return score == null ? 0 : score.longValue();
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static String newToken() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private String slotPrefix() {
    return keys.slot("");
  }

  private static void requireRequestId(String id) {
    if (id == null || !REQUEST_ID.matcher(id).matches()) {
      throw ApplicationFailure.newNonRetryableFailure("invalid request id", INVALID_INPUT);
    }
  }

  private static void requireTemplate(String template) {
    if (!Labels.validLabel(template)) {
      throw ApplicationFailure.newNonRetryableFailure("invalid template name", INVALID_INPUT);
    }
  }

  private static void requireSlotId(String slotId) {
    if (slotId == null || !SLOT_ID.matcher(slotId).matches()) {
      throw ApplicationFailure.newNonRetryableFailure("invalid slot id", INVALID_INPUT);
    }
  }
}
