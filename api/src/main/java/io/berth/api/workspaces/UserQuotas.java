package io.berth.api.workspaces;

import io.berth.api.errors.ApiException;
import io.berth.workflows.RedisKeys;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Calls per user per period, one quota per kind of call (fixed window in Redis, so every API
 * replica counts alike). Fails open: when Redis is down the call itself cannot finish anyway,
 * and a quota error would only hide the real cause.
 */
@Singleton
public class UserQuotas {
  /** What is counted; each has its own setting and its own counter. */
  public enum Kind {
    ALLOCATE("allocation"), EXTEND("extend"), LAUNCH("launch link");

    private final String what;

    Kind(String what) {
      this.what = what;
    }
  }

  /** KEYS: counter; ARGV: period ms. Answers {count, ms left in the window}. */
  static final String COUNT = """
      local c = redis.call('INCR', KEYS[1])
      if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
      return {c, redis.call('PTTL', KEYS[1])}
      """;
  private static final Logger log = LoggerFactory.getLogger(UserQuotas.class);

  private final RedisClient redis;
  private final RedisKeys keys;
  private final Map<Kind, AllocateRate> rates = new EnumMap<>(Kind.class);

  public UserQuotas(RedisClient redis, RedisKeys keys, WorkspaceSettings settings) {
    this.redis = redis;
    this.keys = keys;
    rates.put(Kind.ALLOCATE, settings.rate());
    rates.put(Kind.EXTEND, settings.extendQuota());
    rates.put(Kind.LAUNCH, settings.launchQuota());
  }

  /** Throws 429 with Retry-After when the user is over the quota of this kind. */
  public void take(Kind kind, String user) {
    AllocateRate rate = rates.get(kind);
    if (!rate.enabled()) {
      return;
    }
    List<?> answer;
    try {
      answer = (List<?>) redis.eval(COUNT, List.of(key(kind, user)), List.of(String.valueOf(rate.period().toMillis())));
    } catch (JedisException e) {
      log.warn("{} quota not checked: Redis error {}", kind.what, e.getClass().getSimpleName());
      return;
    }
    long count = (Long) answer.get(0);
    long left = (Long) answer.get(1);
    if (count > rate.limit()) {
      throw ApiException.rateLimited(kind.what + " quota of " + rate.describe() + " reached; try again later",
          Duration.ofMillis(left > 0 ? left : rate.period().toMillis()));
    }
  }

  /** Not in RedisKeys: only the API reads or writes it. {@code quota:allocate:<user>} as before. */
  String key(Kind kind, String user) {
    return keys.prefix() + "quota:" + kind.name().toLowerCase(Locale.ROOT) + ":" + user;
  }
}
