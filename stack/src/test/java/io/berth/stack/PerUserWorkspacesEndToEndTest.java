package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.berth.workflows.WorkspaceWorkflow;
import io.temporal.client.WorkflowNotFoundException;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two workspaces per user (BERTH_WORKSPACES_PER_USER=2) on the real stack: the default one and a
 * named one each get their own slot, label and route, only their owner gets through Nginx to
 * either, and a third is refused before anything is allocated.
 */
class PerUserWorkspacesEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_WORKSPACES_PER_USER", "2", "BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "20"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static JsonNode json(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(r.body(), e);
    }
  }

  private static HttpResponse<String> allocate(String user, String name) {
    return f.call("POST", "/api/workspaces", StackFixture.token(user), "{\"name\":\"" + name + "\"}");
  }

  private static JsonNode ready(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    JsonNode ws = json(r);
    assertEquals("READY", ws.path("state").asText(), r.body());
    return ws;
  }

  /** The browser cookie of a named workspace: a launch link asked for with the owner's JWT, opened at the gateway. */
  private static String launch(String user, String name) {
    HttpResponse<String> r = f.call("POST", "/api/workspaces/me/launch?name=" + name, StackFixture.token(user), null);
    assertEquals(200, r.statusCode(), r.body());
    GatewayClient.Answer a = f.open(json(r).path("url").asText(), null);
    assertEquals(302, a.status(), a.headers() + " " + a.body());
    return a.header("Set-Cookie").split(";")[0];
  }

  private static Set<String> userWorkspaces(String user) {
    return new HashSet<>(f.stack.redis().zrange(f.stack.keys().userWorkspaces(user), 0, -1));
  }

  private static int hosts() {
    return f.stack.worker().fleet().describe().hosts().size();
  }

  private static Set<String> pool() {
    return f.stack.redis().smembers(f.stack.keys().pool(f.stack.config().template()));
  }

  private static boolean workflowExists(String key) {
    try {
      f.workflowStatus(key);
      return true;
    } catch (WorkflowNotFoundException e) {
      return false;
    }
  }

  @Test
  void aliceHasTwoWorkspacesThatOnlySheReachesAndAThirdIsRefused() {
    String dev = Labels.workspaceKey("alice", "dev");
    JsonNode home = ready(f.allocate("alice"));
    JsonNode named = ready(allocate("alice", "dev"));
    assertEquals("alice", named.path("user").asText(), "the owner, not the key");
    assertEquals("dev", named.path("name").asText());
    assertTrue(home.path("name").isMissingNode() || home.path("name").isNull(), home.toString());
    assertNotEquals(home.path("workspaceId").asText(), named.path("workspaceId").asText());
    assertTrue(named.path("url").asText().startsWith("http://" + f.hostname(dev) + ":"), named.toString());

    // Two slots, two labels, two routes; the default one keeps the key and label it always had.
    Map<String, String> s1 = f.session("alice");
    Map<String, String> s2 = f.session(dev);
    assertEquals(Labels.labelFor("alice"), s1.get("label"));
    assertEquals(Labels.labelFor(dev), s2.get("label"));
    assertNotEquals(s1.get("label"), s2.get("label"));
    assertNotEquals(s1.get("slotId"), s2.get("slotId"));
    assertEquals(dev, f.ownerOf(s2.get("slotId")), "the slot is tagged with the workspace key");
    assertTrue(f.hasRoute("alice") && f.hasRoute(dev));
    assertTrue(workflowExists("alice") && workflowExists(dev));
    assertEquals(Set.of("alice", dev), userWorkspaces("alice"));
    assertEquals(Double.POSITIVE_INFINITY, f.stack.redis().zscore(f.stack.keys().userWorkspaces("alice"), dev),
        "a stored session holds its place");

    // Both reachable by alice through Nginx with her cookies.
    String homeCookie = f.launch("alice");
    String devCookie = launch("alice", "dev");
    GatewayClient.Answer page = f.viaGateway(dev, "/", devCookie);
    assertEquals(200, page.status(), page.body());
    assertTrue(page.body().contains("Workspace of alice#dev"), page.body());
    assertEquals(200, f.viaGateway("alice", "/", homeCookie).status());
    // A cookie is bound to its workspace's host: the default one's does not open dev, nor the other way.
    assertEquals(302, f.viaGateway(dev, "/", homeCookie).status());
    assertEquals(302, f.viaGateway("alice", "/", devCookie).status());

    // Not by bob: his JWT names only his own workspaces, his cookie is for his host.
    f.ready("bob");
    String bobCookie = f.launch("bob");
    assertEquals(302, f.viaGateway(dev, "/", bobCookie).status());
    assertEquals(302, f.viaGateway(dev, "/").status());
    assertEquals(404, f.call("POST", "/api/workspaces/me/launch?name=dev", StackFixture.token("bob"), null)
        .statusCode(), "bob has no workspace named dev");
    assertEquals(404, f.call("GET", "/api/workspaces/me?name=dev", StackFixture.token("bob"), null).statusCode());
    assertEquals(404, f.call("DELETE", "/api/workspaces/me?name=dev", StackFixture.token("bob"), null).statusCode());
    assertEquals(1, json(f.call("GET", "/api/workspaces", StackFixture.token("bob"), null)).size());

    JsonNode list = json(f.call("GET", "/api/workspaces", StackFixture.token("alice"), null));
    assertEquals(2, list.size(), list.toString());
    assertTrue(list.get(0).path("name").isMissingNode() || list.get(0).path("name").isNull(), "default first");
    assertEquals("dev", list.get(1).path("name").asText());
    JsonNode me = json(f.call("GET", "/api/workspaces/me?name=dev", StackFixture.token("alice"), null));
    assertEquals(named.path("workspaceId").asText(), me.path("workspaceId").asText());

    // A third: 409 naming the limit, and nothing allocated.
    f.awaitSpares(2);
    Set<String> poolBefore = pool();
    int hostsBefore = hosts();
    HttpResponse<String> third = allocate("alice", "x");
    assertEquals(409, third.statusCode(), third.body());
    assertEquals("workspace_limit", json(third).path("error").asText());
    assertTrue(json(third).path("message").asText().contains("2 per user"), third.body());
    String x = Labels.workspaceKey("alice", "x");
    assertFalse(workflowExists(x));
    assertTrue(f.session(x).isEmpty());
    assertFalse(f.hasRoute(x));
    assertEquals(poolBefore, pool());
    assertEquals(hostsBefore, hosts());
    assertEquals(Set.of("alice", dev), userWorkspaces("alice"));
    // Asking again for one she has is not a new one: the same workspace, at the limit or not.
    assertEquals(home.path("workspaceId").asText(), ready(f.allocate("alice")).path("workspaceId").asText());
    assertEquals(named.path("workspaceId").asText(), ready(allocate("alice", "dev")).path("workspaceId").asText());

    // Releasing one frees its place once its teardown deleted the session.
    HttpResponse<String> released = f.call("DELETE", "/api/workspaces/me?name=dev", StackFixture.token("alice"), null);
    assertEquals(202, released.statusCode(), released.body());
    assertEquals("dev", json(released).path("name").asText());
    f.awaitEnd(dev, Duration.ofSeconds(60));
    Await.until("dev's place freed", Duration.ofSeconds(10), () -> userWorkspaces("alice").equals(Set.of("alice")));
    assertNotEquals(200, f.viaGateway(dev, "/", devCookie).status(), "dev's cookie died with it");
    JsonNode xs = ready(allocate("alice", "x"));
    assertEquals("x", xs.path("name").asText());
    assertEquals(200, f.viaGateway(x, "/", launch("alice", "x")).status());
    assertEquals(200, f.viaGateway("alice", "/", homeCookie).status(), "the default one was never touched");
  }

  @Test
  void anExpiredReservationDoesNotBlockButAPendingOneCounts() {
    String key = f.stack.keys().userWorkspaces("carol");
    long now = System.currentTimeMillis();
    // a saga that failed before storing its session left this reservation behind: it expired
    f.stack.redis().zadd(key, now - 1, Labels.workspaceKey("carol", "ghost"));
    // and this one is an allocation still under way
    f.stack.redis().zadd(key, now + 3_600_000, Labels.workspaceKey("carol", "busy"));
    ready(f.allocate("carol"));
    assertNull(f.stack.redis().zscore(key, Labels.workspaceKey("carol", "ghost")), "the expired one was dropped");
    HttpResponse<String> refused = allocate("carol", "dev");
    assertEquals(409, refused.statusCode(), refused.body());
    assertFalse(workflowExists(Labels.workspaceKey("carol", "dev")));

    f.stack.redis().zadd(key, now - 1, Labels.workspaceKey("carol", "busy")); // its deadline passes
    JsonNode dev = ready(allocate("carol", "dev"));
    assertEquals("dev", dev.path("name").asText());
    assertEquals(Set.of("carol", Labels.workspaceKey("carol", "dev")), userWorkspaces("carol"));
  }

  @Test
  void badNamesAndUserIdsWithTheSeparatorAre400() {
    String t = StackFixture.token("dora");
    for (String bad : List.of("../x", "A", "a".repeat(17), "a b")) {
      HttpResponse<String> r = f.call("POST", "/api/workspaces", t, "{\"name\":\"" + bad + "\"}");
      assertEquals(400, r.statusCode(), bad + ": " + r.body());
      assertEquals("bad_request", json(r).path("error").asText());
      String q = URLEncoder.encode(bad, StandardCharsets.UTF_8);
      assertEquals(400, f.call("GET", "/api/workspaces/me?name=" + q, t, null).statusCode(), bad);
      assertEquals(400, f.call("POST", "/api/workspaces/me/launch?name=" + q, t, null).statusCode(), bad);
    }
    HttpResponse<String> hash = f.call("POST", "/api/workspaces", StackFixture.rawToken("dora#dev"), "{}");
    assertEquals(400, hash.statusCode(), hash.body());
    assertTrue(json(hash).path("message").asText().contains("'#'"), hash.body());
    assertThrows(IllegalArgumentException.class, () -> StackFixture.token("dora#dev"));
    assertFalse(workflowExists("dora#dev"));
    assertTrue(userWorkspaces("dora").isEmpty(), "nothing reserved for a refused request");
  }

  @Test
  void theDashboardListsTheWorkspacesAndGetsANamedOne() throws IOException {
    java.nio.file.Path binary = HeadlessChromium.binary().orElse(null);
    org.junit.jupiter.api.Assumptions.assumeTrue(binary != null, "no Chromium: the browser part is skipped");
    Duration ui = Duration.ofSeconds(20);
    Duration saga = Duration.ofSeconds(60);
    try (HeadlessChromium chrome = HeadlessChromium.launch(binary, 1280, 900)) {
      chrome.navigate(f.stack.apiUrl() + "/");
      chrome.eval("sessionStorage.clear()");
      chrome.navigate(f.stack.apiUrl() + "/");
      chrome.awaitText("Access token", ui);
      chrome.type("#token", StackFixture.token("erin"));
      chrome.click("#signin-form button[type=submit]");
      chrome.awaitText("Signed in as erin", ui);
      chrome.awaitText("Another workspace, by name", ui);
      chrome.click("#get");
      chrome.awaitText("Your workspace is ready.", saga);
      Await.until("the list shows the default workspace", ui, () -> chrome.eval(
          "Array.from(document.querySelectorAll('#ws-list tr td:first-child')).map(t => t.textContent).join(',')")
          .asText().equals("default"));

      chrome.type("#ws-name", "dev");
      chrome.click("#ws-new-form button[type=submit]");
      String erinDev = Labels.workspaceKey("erin", "dev");
      String devUrl = "http://" + f.hostname(erinDev) + ":" + f.gatewayPort + "/";
      Await.until("dev is ready and shown", saga, () -> chrome.text().contains("Your workspace is ready.")
          && devUrl.equals(chrome.eval("document.getElementById('ws-link').textContent").asText()));
      assertEquals("My workspace dev", chrome.eval("document.getElementById('mine-title').textContent").asText());
      Await.until("the list shows both", ui, () -> chrome.eval(
          "Array.from(document.querySelectorAll('#ws-list tr td:first-child')).map(t => t.textContent).join(',')")
          .asText().equals("default,dev"));
      assertTrue(chrome.attribute("#ws-link", "href").startsWith(devUrl + ".berth/launch?t="));

      chrome.click("#ws-list button[aria-label='Show workspace default']");
      String homeUrl = "http://" + f.hostname("erin") + ":" + f.gatewayPort + "/";
      Await.until("the default one is shown again", ui,
          () -> homeUrl.equals(chrome.eval("document.getElementById('ws-link').textContent").asText()));
      assertEquals("My workspace", chrome.eval("document.getElementById('mine-title').textContent").asText());
    }
  }
}
