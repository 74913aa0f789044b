package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.api.access.JwtSecret;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@MicronautTest
class AuthApiTest extends ApiTestBase {

  private static void assertError(Http.Answer a, int status, String error) {
    assertEquals(status, a.status(), a.body());
    JsonNode body = a.json();
    assertEquals(error, body.path("error").asText(), a.body());
    assertFalse(body.path("message").asText().isEmpty(), a.body());
  }

  @Test
  void noTokenIs401Json() {
    assertError(http.get("/api/workspaces/me", null), 401, "unauthorized");
    assertError(http.post("/api/workspaces", null, "{}"), 401, "unauthorized");
  }

  @Test
  void badSignatureIs401() {
    String forged = Jwts.anySubject("another-secret-of-at-least-32-bytes!!", "mallory");
    assertError(http.get("/api/workspaces/me", forged), 401, "unauthorized");
  }

  @Test
  void expiredTokenIs401() {
    assertError(http.get("/api/workspaces/me", Jwts.expired(secret, "alice")), 401, "unauthorized");
  }

  @Test
  void tokenWithoutExpiryIs401() {
    var claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("forever").claim("roles", List.of()).build();
    assertError(http.get("/api/workspaces/me", Jwts.signed(secret, claims)), 401, "unauthorized");
  }

  @Test
  void algNoneTokenIs401EvenWithAdminRole() {
    String none = Jwts.unsigned("mallory");
    assertTrue(none.endsWith("."), "an unsecured JWT has an empty signature part");
    assertError(http.get("/api/workspaces/me", none), 401, "unauthorized");
    assertError(http.get("/api/admin/workspaces", none), 401, "unauthorized");
  }

  @Test
  void garbageBearerIs401() {
    assertError(http.get("/api/admin/workspaces", "not-a-jwt"), 401, "unauthorized");
  }

  @Test
  void nonAdminIs403OnEveryAdminRoute() {
    String t = token(user("plain"));
    assertError(http.get("/api/status", t), 403, "forbidden");
    assertError(http.get("/api/admin/workspaces", t), 403, "forbidden");
    assertError(http.delete("/api/admin/workspaces/someone", t), 403, "forbidden");
    assertError(http.get("/api/admin/workspaces/someone/history", t), 403, "forbidden");
    assertError(http.get("/prometheus", t), 403, "forbidden");
  }

  @Test
  void adminReachesAdminRoutes() {
    assertEquals(200, http.get("/api/admin/workspaces", admin("op")).status());
    assertEquals(200, http.get("/prometheus", admin("op")).status());
  }

  @Test
  void tokenFromTokenCliIsAccepted() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = TokenCli.run(new String[] {"cli-admin", "--admin"},
        Map.of(JwtSecret.ENV_STATE_DIR, stack.stateDir.toString()), new PrintStream(out), new PrintStream(err));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    String jwt = out.toString(StandardCharsets.UTF_8).trim();
    assertEquals(200, http.get("/api/admin/workspaces", jwt).status());
  }

  @Test
  void unknownRouteAnswersJson() {
    Http.Answer a = http.get("/api/nothing-here", admin("op"));
    assertTrue(List.of(401, 403, 404).contains(a.status()), a.body());
    assertFalse(a.json().path("error").asText().isEmpty());
  }

  @Test
  void healthIsPublicAndNamesEachSystem() {
    Http.Answer a = http.get("/health", null);
    assertEquals(200, a.status(), a.body());
    JsonNode details = a.json().path("details");
    assertEquals("UP", a.json().path("status").asText(), a.body());
    for (String part : List.of("redis", "temporal", "nginx")) {
      assertEquals("UP", details.path(part).path("status").asText(), part + ": " + a.body());
    }
    assertEquals("unknown", details.path("nginx").path("details").path("state").asText(), a.body());
  }

  @Test
  void nginxReportFalseMakesHealthDown() {
    String key = "berth:health:nginx";
    try {
      stack.redis.hset(key, Map.of("ok", "false", "detail", "nginx -t failed", "at",
          String.valueOf(System.currentTimeMillis())));
      Http.Answer a = http.get("/health", null);
      assertEquals(503, a.status(), a.body());
      assertEquals("DOWN", a.json().path("details").path("nginx").path("status").asText(), a.body());
    } finally {
      stack.redis.del(key);
    }
  }
}
