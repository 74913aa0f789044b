package io.berth.api.activity;

import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import jakarta.inject.Singleton;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The heartbeat hot path: a workspace token's hash names {@code hb:<sha>} = {user, workspaceId};
 * the user's session must still be that workspace. Redis is updated on every beat, the workflow
 * is signalled at most once per coalescing window.
 */
@Singleton
public class Heartbeats {
  /**
   * One atomic step, so that a teardown deleting the session between the check and the write
   * cannot leave a half session behind. KEYS: ws:<user>, ws:pings, hbwin:<user>;
   * ARGV: the session's expected value, now (ms), window (ms), user, the session field that must
   * hold it (workspaceId for a token's beat, label for traffic through the gateway).
   * Answers -1 stale, 0 recorded, 1 recorded and first in window.
   */
  static final String RECORD = """
      if redis.call('HGET', KEYS[1], ARGV[5]) ~= ARGV[1] then return -1 end
      redis.call('HSET', KEYS[1], 'lastSeen', ARGV[2])
      redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
      if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return 1 end
      return 0
      """;
  private static final String RECORD_SHA = sha1Hex(RECORD);

  private final RedisClient redis;
  private final RedisKeys keys;
  private final HeartbeatSignals signals;
  private final String windowMillis;
  /** False when BERTH_ACTIVITY leaves heartbeats out: a good token still gets 204, and nothing is recorded. */
  private final boolean counted;

  public Heartbeats(RedisClient redis, RedisKeys keys, HeartbeatSignals signals, WorkspaceSettings settings,
                    ActivitySources sources) {
    this.counted = sources.heartbeat();
    this.redis = redis;
    this.keys = keys;
    this.signals = signals;
    this.windowMillis = String.valueOf(settings.effectiveHeartbeatWindow().toMillis());
  }

  /** Records a beat; throws 401 for an unknown or stale token, having written nothing. */
  public void beat(String token) {
    List<String> owner = redis.hmget(keys.heartbeatToken(Labels.sha256Hex(token)), "user", "workspaceId");
    String user = owner.get(0);
    String workspaceId = owner.get(1);
    if (user == null || workspaceId == null || !Labels.validKey(user)) {
      throw ApiException.unauthorized("unknown heartbeat token");
    }
    if (!counted) {
      return;
    }
    if (record(user, "workspaceId", workspaceId) < 0) {
      throw ApiException.unauthorized("stale heartbeat token");
    }
  }

  /**
   * Records traffic the gateway let through to the workspace at {@code label} as the activity of
   * {@code user}'s session, when that session is still the one at this label: one Redis write,
   * and the window's one signal as for a beat.
   */
  public boolean traffic(String user, String label) {
    return record(user, "label", label) >= 0;
  }

  private long record(String user, String field, String expected) {
    long now = System.currentTimeMillis();
    long result = eval(user, field, expected, now);
    if (result == 1) {
      signals.send(user, now);
    }
    return result;
  }

  private long eval(String user, String field, String expected, long now) {
    List<String> k = List.of(keys.workspace(user), keys.pings(), keys.heartbeatWindow(user));
    List<String> a = List.of(expected, String.valueOf(now), windowMillis, user, field);
    try {
      return (Long) redis.evalsha(RECORD_SHA, k, a);
    } catch (JedisNoScriptException e) {
      return (Long) redis.eval(RECORD, k, a); // first use, or Redis restarted: EVAL caches it again
    }
  }

  private static String sha1Hex(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
