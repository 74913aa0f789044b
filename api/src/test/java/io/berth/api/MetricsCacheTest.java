package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.testkit.PrometheusText;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.RedisKeys;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With a long refresh interval, scrapes reuse what was fetched: Temporal and Redis are not asked per scrape. */
@MicronautTest
class MetricsCacheTest extends ApiTestBase {
  private final RedisKeys keys = new RedisKeys("cache-test:");

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.redis.prefix", keys.prefix());
    p.put("berth.metrics.refresh", "PT1H");
    return p;
  }

  private double reclaims() {
    Http.Answer a = http.get("/prometheus", admin("op"));
    assertEquals(200, a.status(), a.body());
    return PrometheusText.parse(a.body()).value("berth_reclaims_total", "reason", "released");
  }

  @Test
  void scrapesWithinTheRefreshIntervalShowWhatWasFetched() {
    String key = BerthCounters.redisKey(keys);
    String field = BerthCounters.field(Counter.RECLAIMS, "released").orElseThrow();
    try {
      stack.redis.hset(key, field, "4");
      assertEquals(4, reclaims(), 0);
      stack.redis.hset(key, field, "6");
      assertEquals(4, reclaims(), 0);
      assertEquals(4, reclaims(), 0);
    } finally {
      stack.redis.del(key);
    }
  }
}
