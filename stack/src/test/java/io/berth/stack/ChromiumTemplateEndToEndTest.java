package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.fleet.local.ChromiumTemplate;
import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chromium template through the whole stack: a headless browser per user behind the gateway
 * under a domain that is not localhost (so DevTools' Host check would refuse the browser's name),
 * heartbeats from DevTools activity, and a release that leaves neither process nor profile.
 */
class ChromiumTemplateEndToEndTest {
  static StackFixture f;

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(chromiumInstalled(), "chromium is not installed (./berth test installs it as root)");
    f = StackFixture.start(Map.of(
        "BERTH_TEMPLATE", "chromium",
        "BERTH_DOMAIN", "workspaces.test",
        "BERTH_WORKSPACE_AUTH", "none",
        "BERTH_ACTIVITY_INTERVAL", "PT0.5S"));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static boolean chromiumInstalled() {
    try {
      ChromiumTemplate.find(null);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static long lastSeen(String user) {
    String v = f.session(user).get("lastSeen");
    return v == null ? 0 : Long.parseLong(v);
  }

  private static Path slotDir(String user) {
    Map<String, String> ws = f.session(user);
    return f.stateDir.resolve("fleet").resolve(ws.get("hostId")).resolve("slot-" + ws.get("slotId").split("/")[1]);
  }

  private static List<Path> runDirs(Path slotDir) {
    try (Stream<Path> s = Files.list(slotDir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("run-")).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aBrowserPerUserBehindTheGatewayKeptAliveByDevToolsUseAndGoneOnRelease() throws Exception {
    f.ready("dora");
    Map<String, String> ws = f.session("dora");
    int port = Integer.parseInt(ws.get("port"));

    GatewayClient.Answer version = f.viaGateway("dora", "/json/version");
    assertEquals(200, version.status(), version.body());
    assertTrue(version.body().contains("\"Browser\""), version.body());
    // What the route's Host override is for: DevTools refuses the browser's own name.
    RawHttp.Answer direct = RawHttp.send(port, f.hostname("dora"), "GET", "/json/version");
    assertEquals(500, direct.status());
    assertTrue(direct.body().contains("not an IP address or localhost"), direct.body());

    Path slotDir = slotDir("dora");
    List<Path> runs = runDirs(slotDir);
    assertEquals(1, runs.size(), "one scratch directory for the one process");
    Path profile = runs.get(0).resolve("profile");
    assertTrue(Files.isDirectory(profile), "the browser's profile lives in the process's scratch directory");
    String slotId = ws.get("slotId");
    long root = Long.parseLong(f.stack.redis().hget(f.stack.keys().instance(ws.get("hostId")), "pid." + slotId.split("/")[1]));
    List<ProcessHandle> tree = Stream.concat(ProcessHandle.of(root).stream(),
        ProcessHandle.of(root).stream().flatMap(ProcessHandle::descendants)).toList();
    assertTrue(tree.size() > 1, "chromium runs as a tree of processes");

    long before = lastSeen("dora");
    long[] opened = {0};
    Await.until("a heartbeat after DevTools opened a page", Duration.ofSeconds(30), () -> {
      // Opened again now and then: the watcher compares with its previous reading of the slot.
      if (System.nanoTime() - opened[0] > 2_000_000_000L) {
        RawHttp.Answer created = RawHttp.send(f.gatewayPort, f.hostname("dora"), "PUT", "/json/new?about:blank");
        assertEquals(200, created.status(), created.body());
        assertTrue(created.body().contains("\"webSocketDebuggerUrl\""), created.body());
        opened[0] = System.nanoTime();
      }
      return lastSeen("dora") > before;
    });

    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("dora"), null).statusCode());
    f.awaitEnd("dora", Duration.ofSeconds(60));
    for (ProcessHandle p : tree) {
      Await.until("chromium process " + p.pid() + " gone", Duration.ofSeconds(20), () -> !p.isAlive());
    }
    assertFalse(Files.exists(runs.get(0)), "the profile is deleted with the process");
    Await.until("a fresh browser in the slot", Duration.ofSeconds(60), () -> runDirs(slotDir).size() == 1);
    assertNotEquals(runs.get(0), runDirs(slotDir).get(0));
    assertEquals(404, f.viaGateway("dora", "/json/version").status());
  }
}
