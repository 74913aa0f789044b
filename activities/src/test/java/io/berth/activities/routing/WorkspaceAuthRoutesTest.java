package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.workflows.model.RouteSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cookie auth in the route files, on the real Nginx: a stand-in API on loopback answers the
 * auth subrequest (204 for the cookie {@code berth_ws=good}, else 401) and the launch link.
 */
class WorkspaceAuthRoutesTest {
  private static final String DOMAIN = "berth.localhost";
  private static final String LABEL = "alice-1a2b3c4d";
  private static final String HOST = LABEL + "." + DOMAIN;
  private static final Duration T = Duration.ofSeconds(5);

  private PrivateNginx n;
  private Upstream workspace;
  private HttpServer api;
  private NginxRoutes routes;
  /** "path?query host=... cookie=..." for each call the stand-in API received. */
  private final List<String> apiCalls = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    n = PrivateNginx.start();
    workspace = new Upstream("alice");
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    api.createContext("/api/gateway/auth", ex -> {
      record(ex);
      String cookie = ex.getRequestHeaders().getFirst("Cookie");
      boolean ok = cookie != null && cookie.contains("berth_ws=good") && HOST.equals(host(ex));
      reply(ex, ok ? 204 : 401, Map.of());
    });
    api.createContext("/api/gateway/launch", ex -> {
      record(ex);
      if ("t=ticket-1".equals(ex.getRequestURI().getRawQuery()) && HOST.equals(host(ex))) {
        reply(ex, 302, Map.of("Location", "/", "Set-Cookie", "berth_ws=good; Path=/; HttpOnly; SameSite=Lax"));
      } else {
        reply(ex, 403, Map.of());
      }
    });
    api.start();
    WorkspaceAuth auth = WorkspaceAuth.cookie("http://127.0.0.1:" + api.getAddress().getPort(),
        "http://127.0.0.1:8080/");
    routes = new NginxRoutes(n.nginx, auth);
    routes.routeWorkspace(new RouteSpec("req-1", "alice", LABEL, HOST, "127.0.0.1", workspace.port()));
  }

  @AfterEach
  void stop() {
    routes.close();
    api.stop(0);
    workspace.close();
    n.close();
  }

  private void record(HttpExchange ex) {
    apiCalls.add(ex.getRequestURI().getRawPath() + (ex.getRequestURI().getRawQuery() == null ? ""
        : "?" + ex.getRequestURI().getRawQuery()) + " host=" + host(ex) + " cookie="
        + ex.getRequestHeaders().getFirst("Cookie"));
  }

  private static String host(HttpExchange ex) {
    return ex.getRequestHeaders().getFirst("Host");
  }

  private static void reply(HttpExchange ex, int status, Map<String, String> headers) throws IOException {
    headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
    ex.sendResponseHeaders(status, -1);
    ex.close();
  }

  private GatewayClient.Answer get(String path, Map<String, String> headers) {
    try {
      return GatewayClient.get("127.0.0.1", n.gateway().port(), HOST, path, T, headers);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void withoutACookieTheWorkspaceRedirectsToTheLoginPage() {
    GatewayClient.Answer a = get("/", Map.of());
    assertEquals(302, a.status(), a.body());
    assertEquals("http://127.0.0.1:8080/?ws=" + LABEL, a.header("Location"));
    assertEquals(LABEL, a.header("X-Berth-Route"));
    assertTrue(apiCalls.stream().anyMatch(c -> c.equals("/api/gateway/auth host=" + HOST + " cookie=null")), apiCalls.toString());

    GatewayClient.Answer wrong = get("/some/page", Map.of("Cookie", "berth_ws=forged"));
    assertEquals(302, wrong.status());
    assertTrue(apiCalls.stream().anyMatch(c -> c.endsWith("cookie=berth_ws=forged")), apiCalls.toString());
  }

  @Test
  void aValidCookieReachesTheWorkspace() {
    GatewayClient.Answer a = get("/", Map.of("Cookie", "other=1; berth_ws=good"));
    assertEquals(200, a.status(), a.body());
    assertEquals("upstream alice", a.body());
    // The subrequest carries no query or body of the original request: only Host and Cookie count.
    assertTrue(apiCalls.stream().allMatch(c -> c.startsWith("/api/gateway/auth host=" + HOST)), apiCalls.toString());
  }

  @Test
  void theReadinessPathStaysOpenAndTheAuthPathIsInternal() {
    assertEquals(204, get(ServerBlock.CHECK_PATH, Map.of()).status());
    apiCalls.clear();
    GatewayClient.Answer internal = get(WorkspaceAuth.AUTH_PATH, Map.of("Cookie", "berth_ws=good"));
    assertNotEquals(204, internal.status());
    assertNotEquals(200, internal.status());
  }

  @Test
  void theLaunchLinkIsPassedToTheApiAndItsCookieComesBack() {
    GatewayClient.Answer a = get(WorkspaceAuth.LAUNCH_PATH + "?t=ticket-1", Map.of());
    assertEquals(302, a.status(), a.body());
    assertEquals("/", a.header("Location"));
    assertEquals("berth_ws=good; Path=/; HttpOnly; SameSite=Lax", a.header("Set-Cookie"));
    assertTrue(apiCalls.contains("/api/gateway/launch?t=ticket-1 host=" + HOST + " cookie=null"), apiCalls.toString());
    assertEquals(403, get(WorkspaceAuth.LAUNCH_PATH + "?t=other", Map.of()).status());
  }

  @Test
  void whenTheApiIsDownNobodyGetsIn() {
    api.stop(0);
    GatewayClient.Answer a = get("/", Map.of("Cookie", "berth_ws=good"));
    assertEquals(500, a.status(), a.body());
  }

  @Test
  void noneModeWritesNoCheck() throws IOException {
    routes.close();
    routes = new NginxRoutes(n.nginx, WorkspaceAuth.none());
    routes.routeWorkspace(new RouteSpec("req-2", "alice", LABEL, HOST, "127.0.0.1", workspace.port()));
    assertEquals(200, get("/", Map.of()).status());
    String conf = Files.readString(n.nginx.routesDir().resolve(LABEL + ".conf"));
    assertTrue(!conf.contains("auth_request"), conf);
  }

  @Test
  void addressesAreRebuiltFromCheckedParts() {
    WorkspaceAuth a = WorkspaceAuth.cookie("HTTP://127.0.0.1:8080/", "https://Dash.Example.org/app/");
    assertEquals("http://127.0.0.1:8080", a.apiBase());
    assertEquals("https://dash.example.org/app/", a.loginUrl());
    assertEquals("http://[::1]:9", WorkspaceAuth.cookie("http://[::1]:9", "http://x.localhost").apiBase());
    assertEquals("http://x.localhost/", WorkspaceAuth.cookie("http://api", "http://x.localhost").loginUrl());
    for (String bad : List.of("ftp://127.0.0.1", "http://127.0.0.1:8080/api", "http://a;b:80", "http://a b",
        "http://u:p@127.0.0.1", "http://127.0.0.1/?x=1", "http://127.0.0.1:99999", "", "127.0.0.1:8080",
        "http://a_b.example:80", "http://x/$host", "http://x/{y}")) {
      assertThrows(IllegalArgumentException.class, () -> WorkspaceAuth.cookie(bad, "http://127.0.0.1/"), bad);
    }
    for (String bad : List.of("http://x/a;b", "http://x/$request_uri", "http://x/a'b", "http://x/#f",
        "javascript:alert(1)", "http://x/a b")) {
      assertThrows(IllegalArgumentException.class, () -> WorkspaceAuth.cookie("http://127.0.0.1:1", bad), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> WorkspaceAuth.fromConfig("open", "http://a", "http://a"));
    assertEquals(WorkspaceAuth.Mode.NONE, WorkspaceAuth.fromConfig("none", "bad url", "bad url").mode());
    assertEquals(WorkspaceAuth.Mode.COOKIE, WorkspaceAuth.fromConfig("", "http://a", "http://a").mode());
  }
}
