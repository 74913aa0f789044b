package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.api.access.AccessCookies;
import io.berth.api.access.GatewaySecret;
import io.berth.api.access.WorkspaceAccess;
import io.berth.workflows.Labels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * BERTH_WORKSPACE_AUTH=none: the launch link is the plain URL and no gateway key is made; with
 * dynamic routing Nginx still asks where each request goes, and only the route record counts.
 */
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
    String host = Labels.labelFor(user) + ".localhost";
    assertEquals(403, RawHttp.get(server.getURI(), "/api/gateway/auth", host, null).status(), "no route yet");
    stack.redis.hset("berth:route:" + Labels.labelFor(user), Map.of("address", "127.0.0.1", "port", "20003",
        "user", user, "requestId", "req-1"));
    RawHttp.Answer pass = RawHttp.get(server.getURI(), "/api/gateway/auth", host, null);
    assertEquals(204, pass.status());
    assertEquals("127.0.0.1:20003", pass.header("X-Berth-Upstream"));
    assertEquals(403, RawHttp.get(server.getURI(), "/api/gateway/auth", "anything", null).status());
  }

  /** BERTH_ROUTING=files: the route files know the upstream; only a lookup Nginx asks for reads the record. */
  @Test
  void filesRoutingLetsEveryoneThroughUnlessNginxAsksForTheRecord() {
    Map<String, Object> p = new HashMap<>(stack.apiProperties());
    p.put("berth.gateway.auth", "none");
    p.put("berth.gateway.routing", "files");
    p.put("micronaut.server.port", "-1");
    try (ApplicationContext ctx = ApplicationContext.run(p)) {
      WorkspaceAccess access = ctx.getBean(WorkspaceAccess.class);
      assertEquals(new WorkspaceAccess.Verdict.Pass(null, null), access.check("anything", null, false));
      assertEquals(new WorkspaceAccess.Verdict.NoRoute(), access.check("nobody-1.localhost", null, true));
    }
    p.put("berth.gateway.routing", "reload");
    Exception e = assertThrows(Exception.class, () -> ApplicationContext.run(p).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage().contains("dynamic or files"), root.getMessage());
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
