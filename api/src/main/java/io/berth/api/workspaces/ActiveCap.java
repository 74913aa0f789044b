package io.berth.api.workspaces;

import io.berth.api.errors.ApiException;
import io.berth.workflows.RedisKeys;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The global cap on active workspaces ({@code BERTH_MAX_WORKSPACES}, 0 = none). A soft cap: it
 * counts sessions in Redis before the allocation starts, so requests racing for the last place
 * can overshoot by the number in flight. Users who already have a workspace always get it back.
 */
@Singleton
public class ActiveCap {
  private static final Logger log = LoggerFactory.getLogger(ActiveCap.class);
  static final Duration RETRY_AFTER = Duration.ofSeconds(60);

  private final RedisClient redis;
  private final RedisKeys keys;
  private final int max;

  public ActiveCap(RedisClient redis, RedisKeys keys, @Value("${berth.workspace.max-active:0}") int max) {
    this.redis = redis;
    this.keys = keys;
    this.max = max;
  }

  /** Throws 503 with Retry-After when the cap is reached and the user has no workspace yet. */
  public void check(String user) {
    if (max <= 0) {
      return;
    }
    try {
      if (!redis.sismember(keys.users(), user) && redis.scard(keys.users()) >= max) {
        throw ApiException.unavailable("at capacity: " + max + " workspaces are active; try again later", RETRY_AFTER);
      }
    } catch (JedisException e) {
      log.warn("active cap not checked: Redis error {}", e.getClass().getSimpleName());
    }
  }
}
