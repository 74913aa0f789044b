package io.berth.api;

import io.berth.workflows.RedisKeys;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Allocations per user per period (fixed window in Redis, so every API replica counts alike).
 * Fails open: when Redis is down the allocation itself cannot finish anyway, and a quota error
 * would only hide the real cause.
 */
@Singleton
public class AllocateQuota {
  /** KEYS: counter; ARGV: period ms. Answers {count, ms left in the window}. */
  static final String COUNT = """
      local c = redis.call('INCR', KEYS[1])
      if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
      return {c, redis.call('PTTL', KEYS[1])}
      """;
  private static final Logger log = LoggerFactory.getLogger(AllocateQuota.class);

  private final RedisClient redis;
  private final RedisKeys keys;
  private final AllocateRate rate;

  public AllocateQuota(RedisClient redis, RedisKeys keys, WorkspaceSettings settings) {
    this.redis = redis;
    this.keys = keys;
    this.rate = settings.rate();
  }

  /** Throws 429 with Retry-After when the user is over the quota. */
  public void take(String user) {
    if (!rate.enabled()) {
      return;
    }
    List<?> answer;
    try {
      answer = (List<?>) redis.eval(COUNT, List.of(key(user)), List.of(String.valueOf(rate.period().toMillis())));
    } catch (JedisException e) {
      log.warn("allocate quota not checked: Redis error {}", e.getClass().getSimpleName());
      return;
    }
    long count = (Long) answer.get(0);
    long left = (Long) answer.get(1);
    if (count > rate.limit()) {
      throw ApiException.rateLimited("allocation quota of " + rate.describe() + " reached; try again later", Duration.ofMillis(left > 0 ? left : rate.period().toMillis()));
    }
  }

  /** Not in RedisKeys: only the API reads or writes it. */
  String key(String user) {
    return keys.prefix() + "quota:allocate:" + user;
  }
}
