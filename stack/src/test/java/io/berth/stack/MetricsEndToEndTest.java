package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.testkit.Await;
import io.berth.testkit.PrometheusText;
import io.berth.workflows.model.WorkspaceState;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * /prometheus and /health on the real stack: the series Prometheus would alert on move when the
 * things they count happen, including the ones only the worker sees (compensations, reclaims,
 * Nginx reload failures), which reach the API through Redis.
 */
class MetricsEndToEndTest {
  static final String SCRAPE_TOKEN = "end-to-end-scrape-token-0123456789abcdef";
  static final Duration BOUND = Duration.ofSeconds(60);
  static final FaultInjector faults = new FaultInjector();
  static StackFixture f;

  @BeforeAll
  static void start() {
    // Files: one case is about a reload that fails its config test, which dynamic routing never runs.
    f = StackFixture.start(Map.of("BERTH_METRICS_TOKEN", SCRAPE_TOKEN, "BERTH_METRICS_REFRESH", "PT0.5S",
        "BERTH_MAX_HOSTS", "20", "BERTH_ROUTING", "files"), faults);
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @AfterEach
  void clear() {
    faults.clear();
  }

  private static PrometheusText scrape() {
    HttpResponse<String> r = f.call("GET", "/prometheus", SCRAPE_TOKEN, null);
    assertEquals(200, r.statusCode(), r.body());
    return PrometheusText.parse(r.body());
  }

  /** Scrapes until {@code ok} holds (the worker reports every 2 s, the API refreshes every 0.5 s). */
  private static PrometheusText awaitScrape(String what, Predicate<PrometheusText> ok) {
    return Await.value(what, BOUND, () -> {
      PrometheusText m = scrape();
      return ok.test(m) ? m : null;
    });
  }

  private static JsonNode health() {
    HttpResponse<String> r = f.call("GET", "/health", null, null);
    try {
      JsonNode json = new ObjectMapper().readTree(r.body());
      assertEquals(200, r.statusCode(), r.body());
      return json;
    } catch (IOException e) {
      throw new AssertionError(r.body(), e);
    }
  }

  @Test
  void oneAllocationAndOneHeartbeatShowInEverySeries() {
    f.ready("mia");
    assertEquals(204, f.heartbeat(f.workspaceToken("mia")).statusCode());

    PrometheusText m = awaitScrape("allocation, fleet and heartbeat series", s ->
        s.value("berth_allocation_seconds_count", "path", "warm", "outcome", "ready") >= 1
            && s.value("berth_pool_spares") >= 1
            && s.value("berth_workspaces_active") >= 1
            && s.value("berth_hosts_desired") >= 1
            && s.value("berth_hosts_actual") >= 1
            && s.value("berth_heartbeats_total", "result", "accepted") >= 1
            && s.value("berth_heartbeat_signals_total", "result", "sent") >= 1
            && s.value("berth_nginx_up") == 1);
    assertTrue(m.value("berth_allocation_seconds_sum", "path", "warm", "outcome", "ready") > 0);
    assertEquals(m.value("berth_allocation_seconds_count", "path", "warm", "outcome", "ready"),
        m.value("berth_allocation_seconds_bucket", "path", "warm", "outcome", "ready", "le", "+Inf"), 0);
    assertTrue(m.value("berth_hosts_actual") >= m.value("berth_workspaces_active") / f.stack.config().slotsPerHost());

    // Admins scrape too; anyone else does not.
    assertEquals(200, f.call("GET", "/prometheus", StackFixture.adminToken(), null).statusCode());
    assertEquals(401, f.call("GET", "/prometheus", null, null).statusCode());
    assertEquals(403, f.call("GET", "/prometheus", StackFixture.token("mia"), null).statusCode());

    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("mia"), null).statusCode());
    f.awaitEnd("mia", BOUND);
    awaitScrape("the reclaim counted by the worker", s -> s.value("berth_reclaims_total", "reason", "released") >= 1);
  }

  @Test
  void aForcedCompensationIsCountedForItsStep() {
    faults.fail("TagOwner", "tess", () -> ApplicationFailure.newNonRetryableFailure("tag refused", "InvalidInput"));
    f.allocate("tess");
    assertEquals(WorkspaceState.FAILED, f.awaitEnd("tess", BOUND).state());

    PrometheusText m = awaitScrape("the tag and claim compensations", s ->
        s.value("berth_saga_compensations_total", "step", "tag") >= 1
            && s.value("berth_saga_compensations_total", "step", "claim") >= 1);
    assertEquals(0, m.value("berth_saga_compensations_total", "step", "session"), 0, "never reached");
    assertTrue(m.value("berth_allocation_seconds_count", "path", "warm", "outcome", "failed") >= 1);
  }

  @Test
  void aBrokenNginxReloadShowsOnHealthAndInMetrics() throws IOException {
    Path broken = f.stack.worker().nginx().routesDir().resolve("zz-broken.conf");
    Files.writeString(broken, "server { this is not nginx;\n");
    try {
      f.allocate("nora");
      assertEquals(WorkspaceState.FAILED, f.awaitEnd("nora", Duration.ofSeconds(90)).state());
    } finally {
      Files.delete(broken);
    }
    PrometheusText m = awaitScrape("the reload failure and the route compensation", s ->
        s.value("berth_nginx_reload_failures_total") >= 1
            && s.value("berth_saga_compensations_total", "step", "route") >= 1);
    assertEquals(1, m.value("berth_nginx_up"), 0, "Nginx still serves the configuration it had");

    JsonNode nginx = Await.value("/health to show the failure", BOUND, () -> {
      JsonNode n = health().path("details").path("nginx");
      return "degraded".equals(n.path("details").path("state").asText()) ? n : null;
    });
    assertEquals("UP", nginx.path("status").asText());
    String failure = nginx.path("details").path("lastReloadFailure").asText();
    assertTrue(failure.contains("zz-broken.conf"), nginx.toString());
    assertFalse(nginx.toString().contains(f.stateDir.toString()), "no paths on the public page: " + nginx);
    assertTrue(nginx.path("details").path("reloadFailures").asInt() >= 1, nginx.toString());
    assertEquals("UP", health().path("status").asText());
  }
}
