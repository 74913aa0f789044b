package io.berth.api.health;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import redis.clients.jedis.RedisClient;

@Singleton
public class RedisHealth extends BlockingHealthIndicator {
  private final RedisClient redis;

  public RedisHealth(RedisClient redis, @Named(TaskExecutors.BLOCKING) ExecutorService executor) {
    super(executor);
    this.redis = redis;
  }

  @Override
  String name() {
    return "redis";
  }

  @Override
  HealthResult check() {
    long start = System.nanoTime();
    boolean pong = "PONG".equals(redis.ping());
    long micros = (System.nanoTime() - start) / 1000;
    return result(pong ? HealthStatus.UP : HealthStatus.DOWN, Map.of("pingMicros", micros));
  }
}
