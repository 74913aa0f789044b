package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.HistorySteps;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BERTH_ROUTING=files on the real stack: one Nginx file per workspace and a reload per change,
 * as before dynamic routing became the default; a config that fails {@code nginx -t} rolls the
 * route step back.
 */
class FilesRoutingEndToEndTest {
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_ROUTING", "files", "BERTH_MAX_HOSTS", "10", "BERTH_SPARES", "2"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void aWorkspaceGetsARouteFileThatGoesWithIt() throws IOException {
    assertFalse(f.dynamicRouting());
    f.ready("fay");
    assertTrue(Files.exists(f.routeFile("fay")));
    assertTrue(Files.readString(f.routeFile("fay")).contains(":" + f.session("fay").get("port") + ";"));
    assertFalse(f.stack.redis().exists(f.stack.keys().route(io.berth.workflows.Labels.labelFor("fay"))),
        "no route record in files mode");
    assertTrue(f.asOwner("fay", "/").body().contains("Workspace of fay"));
    assertEquals(302, f.viaGateway("fay", "/").status(), "a stranger goes to the dashboard");
    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("fay"), null).statusCode());
    f.awaitEnd("fay", Duration.ofSeconds(60));
    assertFalse(Files.exists(f.routeFile("fay")));
    assertEquals(404, f.viaGateway("fay", "/").status());
  }

  @Test
  void anNginxConfigThatFailsItsTestRollsTheRouteBackAndKeepsServingTheOthers() throws IOException {
    f.ready("olga");
    Path broken = f.stack.worker().nginx().routesDir().resolve("zz-broken.conf");
    Files.writeString(broken, "server { this is not nginx;\n");
    try {
      f.allocate("nina");
      WorkspaceView end = f.awaitEnd("nina", Duration.ofSeconds(90));
      assertEquals(WorkspaceState.FAILED, end.state(), end.toString());
      assertTrue(end.reason().toLowerCase().contains("nginx"), end.reason());
      assertFalse(Files.exists(f.routeFile("nina")), "route file");
      assertEquals(404, f.viaGateway("nina", "/").status());
      assertTrue(f.session("nina").isEmpty(), "session");
      // The config that was serving before still serves.
      assertTrue(f.asOwner("olga", "/").body().contains("Workspace of olga"));
      List<String> acts = HistorySteps.activityTypes(f.stack.temporal().client()
          .fetchHistory(WorkspaceWorkflow.idFor("nina")).getHistory().getEventsList());
      assertTrue(acts.containsAll(List.of("UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner",
          "Unclaim")), acts.toString());
    } finally {
      Files.delete(broken);
    }
    f.call("DELETE", "/api/workspaces/me", StackFixture.token("olga"), null);
  }
}
