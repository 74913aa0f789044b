package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 3: Nginx cannot take a new configuration. First a broken file in the routes
 * directory makes every reload fail its config test; then, with that file still there, Nginx dies
 * and cannot start again. Each time the route step of a new allocation compensates, the
 * workspaces already routed keep being served as long as Nginx runs, and /health says what is
 * wrong (degraded, then DOWN). When the broken file goes, the worker starts Nginx again by itself
 * with every route file, and everything answers again.
 */
class NginxFaultTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static FaultStack f;

  @BeforeAll
  static void start() {
    // Files: the scenario is a route file that breaks `nginx -t`; dynamic routing writes none.
    f = FaultStack.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "8", "BERTH_ROUTING", "files"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aBrokenRouteFileThenADeadNginxFailOnlyNewRoutesAndShowInHealth() throws IOException {
    f.ready("olga");
    Path broken = f.routesDir().resolve("zz-broken.conf");
    Files.writeString(broken, "server { this is not nginx;\n");

    // The config test fails: the new route is undone, the old configuration keeps serving.
    WorkspaceView nina = failedAllocation("nina");
    assertTrue(nina.reason().contains("nginx configuration is broken"), nina.reason());
    assertTrue(f.asOwner("olga", "/").body().contains("Workspace of olga"));
    JsonNode degraded = Await.value("/health to report the failed reload", Duration.ofSeconds(30), () -> {
      JsonNode n = nginxHealth(200);
      return "degraded".equals(n.path("details").path("state").asText()) ? n : null;
    });
    assertEquals("UP", degraded.path("status").asText(), degraded.toString());
    assertTrue(degraded.path("details").path("reloadFailures").asInt() >= 1, degraded.toString());
    String failure = degraded.path("details").path("lastReloadFailure").asText();
    assertTrue(failure.contains("zz-broken.conf"), "the alert names the file: " + degraded);
    assertFalse(failure.contains(f.state.toString()), "no paths on a public page: " + degraded);

    // Nginx dies; it cannot start again while the configuration is broken. (Frozen first, so that
    // the master cannot replace the workers killed before it.)
    long master = f.nginxMaster();
    FaultStack.signal("STOP", master);
    ProcessHandle.of(master).ifPresent(m -> {
      m.children().forEach(ProcessHandle::destroyForcibly);
      m.destroyForcibly();
    });
    Await.until("nginx gone", Duration.ofSeconds(10), () -> ProcessHandle.of(master).isEmpty());
    Await.until("/health DOWN for nginx", Duration.ofSeconds(30),
        () -> "DOWN".equals(nginxHealth(503).path("status").asText()));
    WorkspaceView nick = failedAllocation("nick");
    assertTrue(nick.reason().contains("nginx is not running"), nick.reason());
    Await.until("the worker to have tried to start nginx again", Duration.ofSeconds(30),
        () -> f.worker().log().contains("nginx is not running and does not start"));
    assertFalse(answers("olga"), "nothing serves while nginx is down");

    // The broken file goes: the worker's upkeep starts Nginx with every route file.
    Files.delete(broken);
    Await.until("olga served again", Duration.ofSeconds(30),
        () -> f.asOwner("olga", "/").body().contains("Workspace of olga"));
    Await.until("/health UP for nginx", Duration.ofSeconds(30),
        () -> "UP".equals(nginxHealth(200).path("status").asText()));
    assertTrue(f.worker().log().contains("nginx had stopped: started it again"));
    f.ready("nora");
    assertTrue(f.asOwner("nora", "/").body().contains("Workspace of nora"));
    Invariants.awaitHold(f.sources(), List.of("olga", "nina", "nick", "nora"), Duration.ofSeconds(60));
  }

  private static WorkspaceView failedAllocation(String user) {
    HttpResponse<String> r = f.allocate(user);
    assertEquals(503, r.statusCode(), r.body());
    WorkspaceView end = f.awaitEnd(user, Duration.ofSeconds(60));
    assertEquals(WorkspaceState.FAILED, end.state(), end.toString());
    List<String> acts = f.scheduled(user);
    assertEquals(List.of("RouteWorkspace", "UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner",
        "Unclaim"), acts.subList(acts.indexOf("RouteWorkspace"), acts.size()), "the route step compensated");
    return end;
  }

  /** Anything answers on the gateway for the user's hostname. */
  private static boolean answers(String user) {
    try {
      f.viaGateway(user, "/");
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The nginx part of /health, insisting on the overall HTTP status. */
  private static JsonNode nginxHealth(int expectedStatus) {
    HttpResponse<String> r = f.call("GET", "/health", null, null);
    try {
      if (r.statusCode() != expectedStatus) {
        return JSON.createObjectNode();
      }
      return JSON.readTree(r.body()).path("details").path("nginx");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
