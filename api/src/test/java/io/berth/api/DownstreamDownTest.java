package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.access.TokenMinter;
import io.berth.testkit.FreePorts;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Temporal and Redis both unreachable: the API still starts, says so on /health, and answers 503 JSON. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DownstreamDownTest implements TestPropertyProvider {
  private static final String SECRET = "0123456789abcdef0123456789abcdef-down";
  @Inject
  EmbeddedServer server;

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>();
    p.put("berth.jwt.secret", SECRET);
    p.put("berth.gateway.secret", SECRET); // no gateway-secret file in the working directory
    p.put("berth.gateway.token", RawHttp.GATEWAY_TOKEN); // nor a gateway-token file
    p.put("berth.redis.url", "redis://127.0.0.1:" + FreePorts.next());
    p.put("berth.temporal.target", "127.0.0.1:" + FreePorts.next());
    return p;
  }

  @Test
  void healthIs503AndCallsAre503() {
    Http http = new Http(server.getURI());
    Http.Answer health = http.get("/health", null);
    assertEquals(503, health.status(), health.body());
    assertEquals("DOWN", health.json().path("details").path("redis").path("status").asText(), health.body());
    assertEquals("DOWN", health.json().path("details").path("temporal").path("status").asText(), health.body());
    assertTrue(!health.body().contains("127.0.0.1"), "no addresses on the public health page: " + health.body());

    String token = TokenMinter.mint(SECRET, "dave", true, Duration.ofMinutes(5));
    long start = System.nanoTime();
    Http.Answer a = http.post("/api/workspaces", token, null);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(503, a.status(), a.body());
    assertEquals("unavailable", a.json().path("error").asText());
    assertTrue(a.header("Retry-After").isPresent());
    System.out.println("allocate with Temporal down answered in " + ms + " ms");
    assertEquals(503, http.get("/api/status", token).status());
    Http.Answer list = http.get("/api/admin/workspaces", token);
    assertEquals(503, list.status(), list.body());
    assertEquals(503, http.postWithAuthorization("/api/heartbeat", "Bearer 0123456789abcdef0123").status());
  }
}
