package io.berth.activities.store;

import io.berth.workflows.RedisKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import redis.clients.jedis.UnifiedJedis;

/**
 * Loopback ports for slot processes, handed out atomically through the {@code ports} hash
 * (port → owner) so that concurrent launches, and a worker that restarts, never share a port.
 * A port some other process already holds is recorded under {@link #FOREIGN} and skipped until
 * the next {@link #reclaimStale} gives it another chance.
 */
public final class PortAllocator {
  public static final int DEFAULT_FIRST = 50_000;
  public static final int DEFAULT_LAST = 60_000;
  /** Owner of a port found bound by a process that is not ours. */
  public static final String FOREIGN = "~foreign";

  /** From a random start, the first port with no entry becomes the owner's. -1 when the range is full. */
  private static final String ALLOCATE = """
      local first, last, start = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
      local n = last - first + 1
      for i = 0, n - 1 do
        local p = first + (start - first + i) % n
        if redis.call('HSETNX', KEYS[1], tostring(p), ARGV[4]) == 1 then return p end
      end
      return -1
      """;

  /** Compare-and-set of one entry: ARGV[1] port, ARGV[2] expected owner, ARGV[3] new owner or '' to delete. */
  private static final String SWAP = """
      if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
      if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
      return 1
      """;

  /** ARGV[1] port, ARGV[2] owner: records the port as the owner's unless another owner holds it. */
  private static final String CLAIM = """
      local cur = redis.call('HGET', KEYS[1], ARGV[1])
      if cur and cur ~= ARGV[2] and cur ~= ARGV[3] then return 0 end
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
      return 1
      """;

  private final UnifiedJedis redis;
  private final String key;
  private final int first;
  private final int last;

  public PortAllocator(UnifiedJedis redis, RedisKeys keys) {
    this(redis, keys, DEFAULT_FIRST, DEFAULT_LAST);
  }

  public PortAllocator(UnifiedJedis redis, RedisKeys keys, int first, int last) {
    if (first < 1024 || last > 65_535 || first > last) {
      throw new IllegalArgumentException("port range must lie within 1024-65535, got " + first + "-" + last);
    }
    this.redis = redis;
    this.key = keys.ports();
    this.first = first;
    this.last = last;
  }

  /** Thrown when every port of the range is allocated or held by another process. */
  public static final class PortsExhaustedException extends IllegalStateException {
    PortsExhaustedException(String message) {
      super(message);
    }
  }

  /** A port of the range that is recorded as the owner's and was bindable on 127.0.0.1 just now. */
  public int allocate(String owner) {
    requireOwner(owner);
    int size = last - first + 1;
    for (int attempt = 0; attempt < size; attempt++) {
      int start = first + ThreadLocalRandom.current().nextInt(size);
      long port = (Long) redis.eval(ALLOCATE, List.of(key),
          List.of(String.valueOf(first), String.valueOf(last), String.valueOf(start), owner));
      if (port < 0) {
        break;
      }
      if (bindable((int) port)) {
        return (int) port;
      }
      swap((int) port, owner, FOREIGN);
    }
    throw new PortsExhaustedException("no free port in " + first + "-" + last + ": "
        + redis.hlen(key) + " of " + size + " are allocated or held by other processes");
  }

  /**
   * Records a port that a process of the owner already holds (a slot recorded again after Redis
   * lost the allocations): true when the port is now the owner's, false when another owner has it.
   */
  public boolean claim(int port, String owner) {
    requireOwner(owner);
    if (port < first || port > last) {
      return false;
    }
    return Long.valueOf(1).equals(redis.eval(CLAIM, List.of(key), List.of(String.valueOf(port), owner, FOREIGN)));
  }

  /** Frees the port only if it is still the owner's; false when it was not. */
  public boolean release(int port, String owner) {
    return swap(port, owner, "");
  }

  /**
   * Frees every entry whose owner is not live (including ports once held by other processes) and
   * returns how many. The caller makes sure no allocation for an owner outside {@code liveOwners}
   * is in flight (the local fleet calls it under its lock).
   */
  public int reclaimStale(Set<String> liveOwners) {
    int freed = 0;
    for (Map.Entry<String, String> e : redis.hgetAll(key).entrySet()) {
      if (!liveOwners.contains(e.getValue()) && swap(Integer.parseInt(e.getKey()), e.getValue(), "")) {
        freed++;
      }
    }
    return freed;
  }

  public String ownerOf(int port) {
    return redis.hget(key, String.valueOf(port));
  }

  /** Port → owner, ordered by port. */
  public Map<Integer, String> allocations() {
    Map<Integer, String> m = new TreeMap<>();
    redis.hgetAll(key).forEach((p, o) -> m.put(Integer.parseInt(p), o));
    return m;
  }

  public int first() {
    return first;
  }

  public int last() {
    return last;
  }

  private boolean swap(int port, String expected, String next) {
    Object r = redis.eval(SWAP, List.of(key), List.of(String.valueOf(port), expected, next));
    return Long.valueOf(1).equals(r);
  }

  /** SO_REUSEADDR as the JDK's servers use it, so a port in TIME_WAIT counts as free and a listener does not. */
  public static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void requireOwner(String owner) {
    if (owner == null || owner.isEmpty() || owner.equals(FOREIGN)) {
      throw new IllegalArgumentException("invalid port owner");
    }
  }
}
