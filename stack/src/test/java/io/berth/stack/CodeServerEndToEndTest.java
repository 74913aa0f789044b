package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import java.io.File;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Opt-in (BERTH_TEST_CODE_SERVER=1; the install takes minutes and ~800 MB): installs code-server
 * with {@code ./berth install code-server}, serves VS Code per user through the gateway, counts
 * its heartbeat file as activity, and keeps the user's files across a release and a new
 * allocation.
 */
@EnabledIfEnvironmentVariable(named = "BERTH_TEST_CODE_SERVER", matches = "1")
class CodeServerEndToEndTest {
  static final String USER = "vera@example.com";
  static StackFixture f;

  @BeforeAll
  static void start() throws Exception {
    Path root = Path.of("").toAbsolutePath().getParent();
    Path dir = root.resolve(".berth/tools/code-server");
    Process install = new ProcessBuilder("bash", root.resolve("berth").toString(), "install", "code-server")
        .directory(root.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(new File("target/code-server-install.log")))
        .start();
    install.getOutputStream().close();
    if (!install.waitFor(30, TimeUnit.MINUTES)) {
      install.destroyForcibly();
      throw new AssertionError("./berth install code-server took more than 30 minutes");
    }
    assertEquals(0, install.exitValue(), "./berth install code-server failed: see stack/target/code-server-install.log");
    f = StackFixture.start(Map.of(
        "BERTH_TEMPLATE", "code-server",
        "BERTH_CODE_SERVER_BIN", dir.resolve("bin/code-server").toString(),
        "BERTH_WORKSPACE_AUTH", "none",
        "BERTH_ACTIVITY_INTERVAL", "PT1S",
        "BERTH_ALLOCATE_WAIT", "PT60S"));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static Path workspaceFolder() {
    return f.stateDir.resolve("users").resolve(Labels.labelFor(USER)).resolve("workspace");
  }

  private static long lastSeen() {
    String v = f.session(USER).get("lastSeen");
    return v == null ? 0 : Long.parseLong(v);
  }

  /** The workbench page the gateway serves for the user, after code-server's redirect to the folder. */
  private static String workbench() {
    GatewayClient.Answer root = f.viaGateway(USER, "/");
    assertEquals(302, root.status(), root.body());
    String folder = workspaceFolder().toString();
    assertEquals("./?folder=" + folder, root.header("Location"), "code-server opens the user's own folder");
    GatewayClient.Answer page = f.viaGateway(USER, "/?folder=" + URLEncoder.encode(folder, StandardCharsets.UTF_8));
    assertEquals(200, page.status(), page.body());
    return page.body();
  }

  private static GatewayClient.Answer remoteFile(Path file) {
    return f.viaGateway(USER, "/vscode-remote-resource?path=" + URLEncoder.encode(file.toString(), StandardCharsets.UTF_8));
  }

  @Test
  void vsCodePerUserWhoseFilesOutliveTheWorkspace() throws IOException {
    f.ready(USER);
    String slot = f.session(USER).get("slotId");
    String page = workbench();
    assertTrue(page.contains("vscode-workbench-web-configuration") && page.contains("workbench.css"), page);
    assertTrue(page.contains(workspaceFolder().getParent().resolve(".local/share/code-server").toString()),
        "the user data dir is the user's own");

    // code-server touches its heartbeat file at most once a minute, on a request after that.
    long before = lastSeen();
    long[] asked = {0};
    Await.until("a heartbeat from code-server's own activity file", Duration.ofSeconds(150), () -> {
      if (System.nanoTime() - asked[0] > 2_000_000_000L) {
        workbench();
        asked[0] = System.nanoTime();
      }
      return lastSeen() > before;
    });

    Path file = workspaceFolder().resolve("notes.txt");
    Files.writeString(file, "written in the first workspace\n");
    assertEquals("written in the first workspace\n", remoteFile(file).body());

    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token(USER), null).statusCode());
    f.awaitEnd(USER, Duration.ofSeconds(60));
    assertEquals(404, f.viaGateway(USER, "/").status());

    f.awaitSpares(1);
    f.ready(USER);
    System.out.println("code-server e2e: first slot " + slot + ", second slot " + f.session(USER).get("slotId"));
    workbench();
    GatewayClient.Answer again = remoteFile(file);
    assertEquals(200, again.status(), again.body());
    assertEquals("written in the first workspace\n", again.body(), "the file is still there, served by the new process");
  }
}
