package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.api.health.NginxHealth;
import io.berth.testkit.Await;
import io.berth.testkit.PrometheusText;
import io.berth.workflows.BerthCounters;
import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** /prometheus against the fake workflows and a real Redis, refreshed on every scrape. */
@MicronautTest
class MetricsApiTest extends ApiTestBase {
  static final String SCRAPE_TOKEN = "scrape-token-for-the-api-tests-0123456789";
  private final RedisKeys keys = new RedisKeys("berth:");

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.metrics.token", SCRAPE_TOKEN);
    p.put("berth.metrics.refresh", "PT0.001S");
    return p;
  }

  private PrometheusText scrape() {
    Http.Answer a = http.get("/prometheus", SCRAPE_TOKEN);
    assertEquals(200, a.status(), a.body());
    return PrometheusText.parse(a.body());
  }

  private static void assertError(Http.Answer a, int status, String error) {
    assertEquals(status, a.status(), a.body());
    assertEquals(error, a.json().path("error").asText(), a.body());
  }

  @Test
  void adminsAndTheScrapeTokenMayScrapeNobodyElse() {
    Http.Answer byToken = http.get("/prometheus", SCRAPE_TOKEN);
    assertEquals(200, byToken.status());
    assertTrue(byToken.header("Content-Type").orElse("").startsWith("text/plain"), byToken.raw().headers().toString());
    assertEquals(200, http.get("/prometheus", admin("op")).status());
    assertError(http.get("/prometheus", null), 401, "unauthorized");
    assertError(http.get("/prometheus", SCRAPE_TOKEN.replace('0', '1')), 401, "unauthorized");
    assertError(http.get("/prometheus", token(user("plain"))), 403, "forbidden");
  }

  @Test
  void fleetGaugesComeFromTheCapacityWorkflowsStatus() {
    // FakeCapacityWorkflow: one running host, desired 1, one spare of a target of one, nobody active.
    PrometheusText m = scrape();
    assertEquals(1, m.value("berth_pool_spares"), 0);
    assertEquals(1, m.value("berth_pool_spares_target"), 0);
    assertEquals(1, m.value("berth_hosts_desired"), 0);
    assertEquals(1, m.value("berth_hosts_actual"), 0);
    assertEquals(0, m.value("berth_workspaces_active"), 0);
    assertEquals(0, m.value("berth_workspaces_provisioning"), 0);
  }

  private double allocations(PrometheusText m, String path, String outcome) {
    return m.value("berth_allocation_seconds_count", "path", path, "outcome", outcome);
  }

  @Test
  void allocationsAreTimedByPathAndOutcome() {
    PrometheusText before = scrape();
    assertEquals(200, http.post("/api/workspaces", token(user("timed")), null).status());
    assertEquals(503, http.post("/api/workspaces", token(user("fail")), null).status());
    assertEquals(202, http.post("/api/workspaces", token(user("slow")), null).status());
    PrometheusText after = scrape();
    for (String outcome : new String[] {"ready", "failed", "provisioning"}) {
      assertEquals(allocations(before, "warm", outcome) + 1, allocations(after, "warm", outcome), outcome);
    }
    // The fake saga takes 200 ms; the slow one waited out the 2 s allocate wait.
    double readySum = after.value("berth_allocation_seconds_sum", "path", "warm", "outcome", "ready")
        - before.value("berth_allocation_seconds_sum", "path", "warm", "outcome", "ready");
    assertTrue(readySum >= 0.2, "ready took " + readySum + " s");
    assertEquals(allocations(after, "warm", "provisioning"), after.value("berth_allocation_seconds_bucket", "path",
        "warm", "outcome", "provisioning", "le", "+Inf"), 0);
    assertEquals(allocations(before, "warm", "provisioning"), after.value("berth_allocation_seconds_bucket", "path",
        "warm", "outcome", "provisioning", "le", "1.0"), 0, "the 2 s wait is above the 1 s bucket");
    assertEquals(0, after.value("berth_allocation_seconds_count", "path", "cold", "outcome", "ready"), 0);
  }

  @Test
  void heartbeatsAreCountedByResultAndSignalsOnceSent() {
    PrometheusText before = scrape();
    String user = user("beating");
    JsonNode ws = http.post("/api/workspaces", token(user), null).json();
    String token = UUID.randomUUID() + "-" + UUID.randomUUID();
    stack.redis.hset(keys.workspace(user), Map.of("user", user, "workspaceId", ws.path("workspaceId").asText()));
    stack.redis.hset(keys.heartbeatToken(Labels.sha256Hex(token)),
        Map.of("user", user, "workspaceId", ws.path("workspaceId").asText()));
    assertEquals(204, http.postWithAuthorization("/api/heartbeat", "Bearer " + token).status());
    assertEquals(204, http.postWithAuthorization("/api/heartbeat", "Bearer " + token).status());
    assertEquals(401, http.postWithAuthorization("/api/heartbeat", "Bearer " + "x".repeat(40)).status());
    assertEquals(401, http.postWithAuthorization("/api/heartbeat", null).status());

    PrometheusText after = scrape();
    assertEquals(2, after.value("berth_heartbeats_total", "result", "accepted")
        - before.value("berth_heartbeats_total", "result", "accepted"), 0);
    assertEquals(2, after.value("berth_heartbeats_total", "result", "rejected")
        - before.value("berth_heartbeats_total", "result", "rejected"), 0);
    // Two beats in one coalescing window: one signal, sent off the request path.
    double sentBefore = before.value("berth_heartbeat_signals_total", "result", "sent");
    Await.until("the signal counted", Duration.ofSeconds(10),
        () -> scrape().value("berth_heartbeat_signals_total", "result", "sent") == sentBefore + 1);
  }

  @Test
  void workerCountersComeFromTheSharedRedisHash() {
    String key = BerthCounters.redisKey(keys);
    try {
      stack.redis.hset(key, Map.of(
          BerthCounters.field(Counter.SAGA_COMPENSATIONS, "tag").orElseThrow(), "3",
          BerthCounters.field(Counter.RECLAIMS, "idle").orElseThrow(), "5",
          BerthCounters.field(Counter.NGINX_RELOAD_FAILURES, null).orElseThrow(), "2",
          "berth_reclaims{reason=\"invented\"}", "9"));
      PrometheusText m = scrape();
      assertEquals(3, m.value("berth_saga_compensations_total", "step", "tag"), 0);
      assertEquals(0, m.value("berth_saga_compensations_total", "step", "claim"), 0);
      assertEquals(5, m.value("berth_reclaims_total", "reason", "idle"), 0);
      assertEquals(0, m.value("berth_reclaims_total", "reason", "max_lifetime"), 0);
      assertEquals(2, m.value("berth_nginx_reload_failures_total"), 0);
      assertEquals(0, m.value("berth_probe_failures_total", "phase", "pool"), 0);
      assertEquals(0, m.value("berth_hosts_quarantined_total"), 0);
      assertTrue(m.sample("berth_reclaims_total", "reason", "invented").isEmpty(), "only known series");
    } finally {
      stack.redis.del(key);
    }
  }

  @Test
  void nginxUpIsOneOnlyWhileAFreshReportSaysItRuns() {
    String key = NginxHealth.key(keys);
    try {
      assertEquals(0, scrape().value("berth_nginx_up"), 0, "no worker report");
      stack.redis.hset(key, Map.of("ok", "true", "at", String.valueOf(System.currentTimeMillis())));
      assertEquals(1, scrape().value("berth_nginx_up"), 0);
      stack.redis.hset(key, Map.of("ok", "false"));
      assertEquals(0, scrape().value("berth_nginx_up"), 0);
      stack.redis.hset(key, Map.of("ok", "true", "at", String.valueOf(System.currentTimeMillis() - 600_000)));
      assertEquals(0, scrape().value("berth_nginx_up"), 0, "a stale report");
    } finally {
      stack.redis.del(key);
    }
  }

  @Test
  void aRecentRouteFailureIsDegradedOnHealthWithoutTakingItDown() {
    String key = NginxHealth.key(keys);
    long now = System.currentTimeMillis();
    try {
      stack.redis.hset(key, Map.of("ok", "true", "detail", "3 routes, 7 reloads", "at", String.valueOf(now),
          "reloadFailures", "1", "lastErrorAt", String.valueOf(now - 1000),
          "lastError", "nginx: [emerg] unknown directive \"this\" in /tmp/berth-x/nginx/routes/zz-broken.conf:1\n"
              + "nginx: configuration file /tmp/berth-x/nginx/nginx.conf test failed"));
      Http.Answer a = http.get("/health", null);
      assertEquals(200, a.status(), a.body());
      assertEquals("UP", a.json().path("status").asText());
      JsonNode nginx = a.json().path("details").path("nginx");
      assertEquals("UP", nginx.path("status").asText(), a.body());
      assertEquals("degraded", nginx.path("details").path("state").asText(), a.body());
      assertEquals("nginx: [emerg] unknown directive \"this\" in zz-broken.conf:1",
          nginx.path("details").path("lastReloadFailure").asText(), a.body());
      assertEquals(1, nginx.path("details").path("reloadFailures").asInt(), a.body());
      assertFalse(a.body().contains("/tmp"), "no file system paths on the public page: " + a.body());

      // Past the degraded window it is ok again.
      stack.redis.hset(key, "lastErrorAt", String.valueOf(now - Duration.ofMinutes(11).toMillis()));
      assertEquals("ok", http.get("/health", null).json().path("details").path("nginx").path("details")
          .path("state").asText());
    } finally {
      stack.redis.del(key);
    }
  }
}
