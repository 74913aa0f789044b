package io.berth.api.workspaces;

import io.berth.api.errors.ApiException;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.RedisClient;

/**
 * How many workspaces a user may have at once ({@code berth.workspace.per-user}), kept in the
 * sorted set {@code user:<user>} ({@link RedisKeys#userWorkspaces}) of their workspace keys.
 * Before a NEW workspace starts, the API reserves its place atomically: a key already there is
 * fine (asking again for a workspace one has is not a new one); otherwise expired reservations
 * are dropped and the key is added with a deadline, unless the set is full. The session step
 * makes the place permanent ({@code +inf}) and the session delete (teardown, the saga's undo)
 * removes it, so a saga that dies before its session frees its place by expiry at the latest.
 * With a limit of 1 only the default workspace exists, so nothing is reserved: the default path
 * does what it did before named workspaces existed.
 */
@Singleton
public class WorkspaceLimit {
  /** The saga may outlast the cold-start wait by its probe (retried ≤ 30 s) and the other steps. */
  static final Duration SAGA_MARGIN = Duration.ofSeconds(60);

  /**
   * KEYS: the user's workspaces, the workspace's session. ARGV: key, hold ms, limit. 1: the key
   * holds a place; 0: the user is at the limit. A session the set does not know (stored before the
   * set existed) takes its place back. Redis's clock, so API replicas with skewed clocks agree on
   * what expired.
   */
  static final String RESERVE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local untilMs = now + tonumber(ARGV[2])
      local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
      if held then
        if held ~= 'inf' and tonumber(held) < untilMs then redis.call('ZADD', KEYS[1], untilMs, ARGV[1]) end
        return 1
      end
      if redis.call('EXISTS', KEYS[2]) == 1 then
        redis.call('ZADD', KEYS[1], '+inf', ARGV[1])
        return 1
      end
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
      if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
        redis.call('ZADD', KEYS[1], untilMs, ARGV[1])
        return 1
      end
      return 0
      """;

  /** KEYS: the user's workspaces. ARGV: key. Drops a pending reservation, never a place a session holds. */
  static final String DROP_PENDING = """
      local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
      if held and held ~= 'inf' then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end
      return 0
      """;

  private final RedisClient redis;
  private final RedisKeys keys;
  private final int limit;
  private final Duration hold;

  public WorkspaceLimit(RedisClient redis, RedisKeys keys, WorkspaceSettings settings) {
    this.redis = redis;
    this.keys = keys;
    this.limit = settings.perUser();
    this.hold = settings.allocateWait().plus(settings.coldStartTimeout()).plus(SAGA_MARGIN);
  }

  public int limit() {
    return limit;
  }

  /**
   * The workspace key the caller means: their default workspace for a null name. A name is
   * validated here, before it names anything; with a limit of 1 a name is refused.
   */
  public String keyFor(String user, String name, boolean creating) {
    if (name == null) {
      return Labels.workspaceKey(user, null);
    }
    if (!Labels.validName(name)) {
      throw ApiException.badRequest("invalid workspace name: 1 to 16 of a-z and 0-9");
    }
    if (creating && limit == 1) {
      throw overLimit("named workspaces are off: the limit is 1 workspace per user (your default one); "
          + "ask without a name");
    }
    return Labels.workspaceKey(user, name);
  }

  /** Holds a place for {@code key} or throws 409 naming the limit. */
  public void reserve(String key) {
    if (!counted(key)) {
      return;
    }
    String user = Labels.userOf(key);
    Object held = redis.eval(RESERVE, List.of(keys.userWorkspaces(user), keys.workspace(key)),
        List.of(key, String.valueOf(hold.toMillis()), String.valueOf(limit)));
    if (!Long.valueOf(1).equals(held)) {
      throw overLimit("workspace limit reached: " + limit + " per user; release one of yours first");
    }
  }

  /** The allocation failed (no session was stored): its place is free again at once, not at expiry. */
  public void releasePending(String key) {
    if (!counted(key)) {
      return;
    }
    redis.eval(DROP_PENDING, List.of(keys.userWorkspaces(Labels.userOf(key))), List.of(key));
  }

  /** The keys of the user's workspaces that hold or reserve a place, the default one always first. */
  public List<String> keysOf(String user) {
    List<String> out = new ArrayList<>();
    out.add(user);
    for (String k : redis.zrange(keys.userWorkspaces(user), 0, -1)) {
      if (!k.equals(user) && Labels.validKey(k) && user.equals(Labels.userOf(k))) {
        out.add(k);
      }
    }
    return out;
  }

  /** With a limit of 1 the default workspace is not counted: the default path stays as it was. */
  private boolean counted(String key) {
    return limit > 1 || Labels.nameOf(key) != null;
  }

  private static ApiException overLimit(String message) {
    return new ApiException(HttpStatus.CONFLICT, "workspace_limit", message, null);
  }
}
