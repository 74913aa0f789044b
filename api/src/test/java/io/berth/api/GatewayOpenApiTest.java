package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.workflows.Labels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** BERTH_WORKSPACE_AUTH=none: the launch link is the plain URL and Nginx asks nothing; no gateway key is made. */
@MicronautTest
class GatewayOpenApiTest extends ApiTestBase {

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.gateway.auth", "none");
    return p;
  }

  @Test
  void theLaunchLinkIsTheWorkspaceUrl() {
    String user = user("open");
    Http.Answer a = http.post("/api/workspaces", token(user), null);
    stack.redis.hset("berth:ws:" + user, Map.of("workspaceId", a.json().path("workspaceId").asText(),
        "label", Labels.labelFor(user)));
    JsonNode me = http.get("/api/workspaces/me", token(user)).json();
    assertEquals(me.path("url").asText(), me.path("launchUrl").asText());
    JsonNode link = http.post("/api/workspaces/me/launch", token(user), null).json();
    assertEquals(me.path("url").asText(), link.path("url").asText());
    assertEquals(0, link.path("expiresInSeconds").asLong());
    assertEquals(204, RawHttp.get(server.getURI(), "/api/gateway/auth", "anything", null).status());
  }

  @Test
  void anUnknownModeStopsStartup() {
    Map<String, Object> p = new HashMap<>(stack.apiProperties());
    p.put("berth.gateway.auth", "open");
    Exception e = assertThrows(Exception.class, () -> ApplicationContext.run(p).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage().contains("cookie or none"), root.getMessage());
  }

  @Test
  void noGatewaySecretFileIsMade() {
    // The shared state dir may hold one from a cookie-mode class in this JVM; a fresh dir tells.
    Map<String, Object> p = new HashMap<>(stack.apiProperties());
    p.put("berth.gateway.auth", "none");
    p.put("micronaut.server.port", "-1");
    try {
      java.nio.file.Path dir = Files.createTempDirectory("berth-none");
      p.put("berth.state-dir", dir.toString());
      p.put("berth.jwt.secret", "0123456789abcdef0123456789abcdef");
      try (ApplicationContext ctx = ApplicationContext.run(p)) {
        assertFalse(ctx.getBean(AccessCookies.class).enabled());
      }
      assertFalse(Files.exists(dir.resolve(GatewaySecret.FILE_NAME)));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
