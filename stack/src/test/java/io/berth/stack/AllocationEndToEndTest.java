package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Allocate, route, release through the real stack: Temporal test server, Redis, Nginx, HTTP. */
class AllocationEndToEndTest {
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_MAX_HOSTS", "30"));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  @Test
  void aliceGetsAWorkspaceRoutedThroughNginxAndThePoolRefills() {
    HttpResponse<String> r = f.allocate("alice");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("READY", field(r.body(), "state"));
    String url = field(r.body(), "url");
    assertEquals("http://" + f.hostname("alice") + ":" + f.gatewayPort + "/", url);
    assertTrue(field(r.body(), "launchUrl").startsWith(url + ".berth/launch?t="), r.body());

    // Knowing the URL is not enough: the gateway sends a stranger to the dashboard.
    GatewayClient.Answer stranger = f.viaGateway("alice", "/");
    assertEquals(302, stranger.status(), stranger.body());
    assertEquals(f.loginRedirect("alice"), stranger.header("Location"));
    GatewayClient.Answer page = f.viaGateway("alice", "/", f.open(field(r.body(), "launchUrl"), null)
        .header("Set-Cookie").split(";")[0]);
    assertEquals(200, page.status());
    assertTrue(page.body().contains("Workspace of alice"), page.body());
    assertEquals("alice", f.session("alice").get("user"));
    assertEquals("READY", f.session("alice").get("state"));
    f.awaitSpares(1);
  }

  @Test
  void twoUsersGetDifferentSlotsAndRoutes() {
    String bob = field(f.ready("bob").body(), "instanceId");
    String carol = field(f.ready("carol").body(), "instanceId");
    assertNotEquals(bob, carol);
    assertNotEquals(f.session("bob").get("port"), f.session("carol").get("port"));
    assertTrue(f.asOwner("bob", "/").body().contains("Workspace of bob"));
    assertTrue(f.asOwner("carol", "/").body().contains("Workspace of carol"));
    assertTrue(f.hasRoute("bob") && f.hasRoute("carol"));
    assertTrue(f.dynamicRouting(), "dynamic routing is the default");
  }

  @Test
  void twentyConcurrentAllocatesForOneUserGiveOneWorkspace() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      List<Future<HttpResponse<String>>> calls = Stream.generate(() -> pool.submit(() -> f.allocate("dave")))
          .limit(20).toList();
      Set<String> workspaces = new java.util.HashSet<>();
      for (Future<HttpResponse<String>> c : calls) {
        HttpResponse<String> r = c.get();
        assertEquals(200, r.statusCode(), r.body());
        workspaces.add(field(r.body(), "workspaceId") + "@" + field(r.body(), "instanceId"));
      }
      assertEquals(1, workspaces.size(), "one workspace: " + workspaces);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(Labels.labelFor("dave")), f.stack.worker().routes().routedLabels().stream()
        .filter(l -> l.startsWith(Labels.labelFor("dave"))).toList());
    assertEquals(f.session("dave").get("port"), f.stack.redis().hget(f.stack.keys().route(Labels.labelFor("dave")),
        "port"), "the route points at dave's one slot");
  }

  @Test
  void releaseTearsEverythingDown() {
    HttpResponse<String> r = f.ready("erin");
    String slot = f.session("erin").get("slotId");
    String host = field(r.body(), "instanceId");
    assertEquals("erin", f.ownerOf(slot));

    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("erin"), null).statusCode());
    f.awaitEnd("erin", Duration.ofSeconds(60));

    assertEquals(404, f.viaGateway("erin", "/").status());
    assertFalse(f.hasRoute("erin"));
    assertTrue(f.session("erin").isEmpty());
    assertEquals(null, f.ownerOf(slot));
    assertFalse(f.hostProtected(host));
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, f.workflowStatus("erin"));
    assertEquals(404, f.call("GET", "/api/workspaces/me", StackFixture.token("erin"), null).statusCode());
    // The slot comes back to the pool after its fresh process passes the probe, unless the
    // controller scales its now empty host in first (other tests' releases may leave more spares
    // than the target, and the stable window is 3 s here): either way it is not leaked.
    Await.until("erin's slot back in the pool or its host scaled in", Duration.ofSeconds(60),
        () -> f.stack.redis().sismember(f.stack.keys().pool("demo"), slot)
            || f.stack.worker().fleet().describe().hosts().stream().noneMatch(h -> h.hostId().equals(host)));
  }

  @Test
  void anAdminForceReleasesAndANonAdminCannot() {
    f.ready("frank");
    HttpResponse<String> denied = f.call("DELETE", "/api/admin/workspaces/frank", StackFixture.token("gina"), null);
    assertEquals(403, denied.statusCode());
    assertTrue(denied.body().contains("\"error\""), denied.body());
    assertEquals(403, f.call("GET", "/api/status", StackFixture.token("gina"), null).statusCode());
    assertEquals(403, f.call("GET", "/api/admin/workspaces", StackFixture.token("gina"), null).statusCode());

    HttpResponse<String> list = f.call("GET", "/api/admin/workspaces", StackFixture.adminToken(), null);
    assertEquals(200, list.statusCode());
    assertTrue(list.body().contains("frank"), list.body());

    assertEquals(202, f.call("DELETE", "/api/admin/workspaces/frank", StackFixture.adminToken(), null).statusCode());
    f.awaitEnd("frank", Duration.ofSeconds(60));
    assertEquals(404, f.viaGateway("frank", "/").status());

    HttpResponse<String> history = f.call("GET", "/api/admin/workspaces/frank/history", StackFixture.adminToken(), null);
    assertEquals(200, history.statusCode());
    // Local activities (the saga's steps on the local fleet) show by name too, not as bare markers.
    for (String step : List.of("ClaimSpare", "RouteWorkspace", "StoreSession")) {
      assertTrue(history.body().contains("\"type\":\"LocalActivity\",\"details\":\"" + step + "\""), history.body());
    }
    assertTrue(history.body().contains("\"type\":\"ActivityTaskScheduled\",\"details\":\"UnrouteWorkspace\""),
        history.body());
  }

  @Test
  void oddUserIdsGetSafeLabelsOrA400AndNginxStaysValid() throws IOException {
    List<String> odd = List.of("../../etc/passwd", "a;b", "john smith", "x{y}", "semi;colon;}", "UPPER.Case@Mail");
    for (String user : odd) {
      f.ready(user);
      assertTrue(f.asOwner(user, "/").body().contains("Workspace of"), user);
    }
    for (String bad : List.of("new\nline", "x".repeat(300))) {
      HttpResponse<String> r = f.call("POST", "/api/workspaces", StackFixture.rawToken(bad), "{}");
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(r.body().contains("\"error\""), r.body());
    }
    // Route records are named by labels only; no route file is written at all.
    List<String> labels = f.stack.worker().routes().routedLabels();
    assertTrue(labels.stream().allMatch(Labels::validLabel), labels.toString());
    try (Stream<Path> files = Files.list(f.stack.worker().nginx().routesDir())) {
      assertEquals(List.of(), files.toList());
    }
    assertTrue(f.stack.worker().nginx().test().ok());
    odd.forEach(u -> f.call("DELETE", "/api/workspaces/me", StackFixture.token(u), null));
  }
}
