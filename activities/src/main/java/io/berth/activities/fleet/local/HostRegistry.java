package io.berth.activities.fleet.local;

import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * The group's hosts in Redis, as an Auto Scaling group keeps them: one hash {@code inst:<id>} per
 * host (state, launch time, protection, and per slot its port, process, owner and user), the set
 * {@code insts}, the host sequence and the desired capacity. Writes that could race a termination
 * go through Lua, so that a host that is gone is never recreated by a late write.
 */
final class HostRegistry {
  /** KEYS[1] hash; ARGV field/value pairs. Never recreates the hash of a host that is gone. */
  private static final String HSET_IF_EXISTS = """
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      redis.call('HSET', KEYS[1], unpack(ARGV))
      return 1
      """;

  /** KEYS: inst, desired. ARGV: decrement (1/0), min. Decrements only on the first transition, so retries don't. */
  private static final String BEGIN_TERMINATE = """
      local s = redis.call('HGET', KEYS[1], 'state')
      if not s then return 0 end
      if s == 'TERMINATING' then return 1 end
      redis.call('HSET', KEYS[1], 'state', 'TERMINATING')
      if ARGV[1] == '1' then
        local d = tonumber(redis.call('GET', KEYS[2]) or ARGV[2])
        if d > tonumber(ARGV[2]) then redis.call('SET', KEYS[2], d - 1) end
      end
      return 1
      """;

  /** KEYS[1] counter; ARGV[1] floor. Raises the counter to the floor, never lowers it. */
  private static final String RAISE_TO = """
      local c = tonumber(redis.call('GET', KEYS[1]) or '0')
      if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
      return 1
      """;

  private static final String FORGET_HOST = """
      redis.call('DEL', KEYS[1])
      redis.call('SREM', KEYS[2], ARGV[1])
      return 1
      """;

  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final LocalFleetConfig config;
  private final String hostSet;
  private final String desiredKey;

  /** The default template's group. */
  HostRegistry(UnifiedJedis redis, RedisKeys keys, LocalFleetConfig config) {
    this(redis, keys, config, new HostGroupStore(config.template().name(), true));
  }

  HostRegistry(UnifiedJedis redis, RedisKeys keys, LocalFleetConfig config, HostGroupStore store) {
    this.redis = redis;
    this.keys = keys;
    this.config = config;
    this.hostSet = store.hostSet(keys);
    this.desiredKey = store.desiredKey(keys);
  }

  // ---- hosts ---------------------------------------------------------------------------------

  /** The template this group's hosts run. */
  String template() {
    return config.template().name();
  }

  /**
   * Every host's record in one pipelined round trip: the reconciler reads them all under the fleet
   * lock each pass, and a round trip per host (50 at the bench's pool) kept tag and credential
   * writes waiting for it. Ids without a record leave the set. Ordered by id.
   */
  List<HostState> loadAll() {
    List<String> ids = List.copyOf(redis.smembers(hostSet));
    List<Response<Map<String, String>>> records = new ArrayList<>(ids.size());
    try (AbstractPipeline p = redis.pipelined()) {
      for (String id : ids) {
        records.add(FleetInput.isHostId(id) ? p.hgetAll(keys.instance(id)) : null);
      }
      p.sync();
    }
    List<HostState> hosts = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      HostState h = records.get(i) == null ? null : hostOf(ids.get(i), records.get(i).get());
      if (h == null) {
        redis.srem(hostSet, ids.get(i));
      } else {
        hosts.add(h);
      }
    }
    hosts.sort(Comparator.comparingLong(HostState::seq));
    return hosts;
  }

  /** The host's record, null when it has none. */
  HostState load(String id) {
    return hostOf(id, redis.hgetAll(keys.instance(id)));
  }

  /** The ids in the set of hosts, whether or not each still has a record. */
  Set<String> ids() {
    return redis.smembers(hostSet);
  }

  private static HostState hostOf(String id, Map<String, String> f) {
    if (f.isEmpty() || f.get("state") == null) {
      return null;
    }
    int n = parseInt(f.get("slots"));
    List<SlotState> slots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long pid = parseLong(f.get("pid." + i));
      SlotProcess p = pid > 0 ? new SlotProcess(pid, parseLong(f.get("start." + i))) : null;
      String user = f.get("user." + i);
      slots.add(new SlotState(i, parseInt(f.get("port." + i)), p, f.get("owner." + i),
          user != null && Labels.validLabel(user) ? user : null));
    }
    return new HostState(id, parseLong(id.substring(2)), f.get("state"), Boolean.parseBoolean(f.get("protected")),
        parseLong(f.get("launchedAt")), List.copyOf(slots), f.get("template"));
  }

  /** The next id of the host sequence; the caller checks that nothing else has it (the sequence may restart with Redis). */
  String nextHostId() {
    return "h-" + redis.incr(keys.hostSequence());
  }

  /** Whether any group has a record of the host (records are shared, sets are per group). */
  boolean recorded(String id) {
    return redis.exists(keys.instance(id));
  }

  /** A new host as launching (PENDING), before any of its processes runs. */
  void recordPending(String id, long launchedAt) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("state", HostState.PENDING);
    fields.put("address", LocalFleet.ADDRESS);
    fields.put("protected", "false");
    fields.put("launchedAt", String.valueOf(launchedAt));
    fields.put("slots", String.valueOf(config.slotsPerHost()));
    fields.put("template", config.template().name());
    redis.hset(keys.instance(id), fields);
    redis.sadd(hostSet, id);
  }

  /** Unless the host went meanwhile. */
  void markRunning(String id) {
    setIfExists(id, Map.of("state", HostState.RUNNING));
  }

  /** A host recorded again from what its directory says (fields as {@link #load} reads them). */
  void recordAgain(String id, Map<String, String> record) {
    redis.hset(keys.instance(id), record);
    redis.sadd(hostSet, id);
  }

  /** Raises the host sequence to {@code highest}, so that no recovered host's id is handed out again. */
  void raiseSequenceTo(long highest) {
    redis.eval(RAISE_TO, List.of(keys.hostSequence()), List.of(String.valueOf(highest)));
  }

  /**
   * Marks the host TERMINATING; with {@code decrement}, lowers the desired capacity (never below
   * the minimum) on the first transition only, so a retry does not. False when the host has no record.
   */
  boolean beginTermination(String id, boolean decrement) {
    Object began = redis.eval(BEGIN_TERMINATE, List.of(keys.instance(id), desiredKey),
        List.of(decrement ? "1" : "0", String.valueOf(config.minHosts())));
    return Long.valueOf(1).equals(began);
  }

  void forget(String id) {
    redis.eval(FORGET_HOST, List.of(keys.instance(id), hostSet), List.of(id));
  }

  /** False when the host has no record. */
  boolean setProtected(String id, boolean protect) {
    return setIfExists(id, Map.of("protected", String.valueOf(protect)));
  }

  // ---- slots ---------------------------------------------------------------------------------

  String ownerOf(String hostId, int index) {
    return redis.hget(keys.instance(hostId), "owner." + index);
  }

  /** False when the host has no record. */
  boolean setOwner(String hostId, int index, String owner) {
    return setIfExists(hostId, Map.of("owner." + index, owner));
  }

  void clearOwner(String hostId, int index) {
    redis.hdel(keys.instance(hostId), "owner." + index);
  }

  /** The slot's new process, its port and whose directory it runs on ({@code userLabel}, null: ownerless). */
  void recordProcess(String hostId, int index, SlotProcess p, int port, String userLabel) {
    setIfExists(hostId, Map.of("pid." + index, String.valueOf(p.pid()), "start." + index,
        String.valueOf(p.startMillis()), "port." + index, String.valueOf(port)));
    if (userLabel != null) {
      setIfExists(hostId, Map.of("user." + index, userLabel));
    } else {
      redis.hdel(keys.instance(hostId), "user." + index);
    }
  }

  // ---- desired capacity ----------------------------------------------------------------------

  /** Clamped on read too: the stored value may predate a change of min/max. */
  int desired() {
    String d = redis.get(desiredKey);
    return clamp(d == null ? config.minHosts() : Integer.parseInt(d));
  }

  void setDesired(int desired) {
    redis.set(desiredKey, String.valueOf(clamp(desired)));
  }

  /** A lost desired capacity keeps what runs (never below the minimum) rather than scaling it in. */
  void keepDesired() {
    long up = loadAll().stream().filter(HostState::up).count();
    redis.setnx(desiredKey, String.valueOf(clamp((int) Math.max(up, config.minHosts()))));
  }

  private int clamp(int desired) {
    return Math.max(config.minHosts(), Math.min(config.maxHosts(), desired));
  }

  private boolean setIfExists(String hostId, Map<String, String> fields) {
    List<String> args = new ArrayList<>();
    fields.forEach((k, v) -> {
      args.add(k);
      args.add(v);
    });
    return Long.valueOf(1).equals(redis.eval(HSET_IF_EXISTS, List.of(keys.instance(hostId)), args));
  }

  static int parseInt(String s) {
    return s == null ? 0 : Integer.parseInt(s);
  }

  static long parseLong(String s) {
    return s == null ? 0 : Long.parseLong(s);
  }
}
