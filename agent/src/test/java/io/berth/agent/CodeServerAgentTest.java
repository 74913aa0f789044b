package io.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.berth.testkit.Await;
import io.berth.testkit.FakeAws;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opt-in, with a real code-server ({@code BERTH_CODE_SERVER_BIN}, e.g. what
 * {@code ./berth install code-server} leaves in {@code .berth/tools/code-server/bin/code-server}):
 * requests to code-server move its {@code /healthz} {@code lastHeartbeat}, which the agent relays
 * as heartbeats; {@code Recycle} restarts code-server on a wiped home. Prints the recycle time.
 */
@EnabledIfEnvironmentVariable(named = "BERTH_CODE_SERVER_BIN", matches = ".+")
class CodeServerAgentTest {
  static final Duration BOUND = Duration.ofSeconds(150);
  static final Pattern RECYCLED = Pattern.compile("recycled in (\\d+) ms");

  @TempDir Path tmp;
  FakeAws aws;
  AgentBox box;

  @AfterEach
  void stop() throws Exception {
    box.close();
    aws.close();
  }

  @Test
  void codeServerActivityBecomesHeartbeatsAndRecycleRestartsItOnAWipedHome() throws Exception {
    aws = FakeAws.start();
    box = new AgentBox(tmp, aws).env("BERTH_AGENT_TEMPLATE_TIMEOUT", "PT120S");
    box.templateCommand(System.getenv("BERTH_CODE_SERVER_BIN") + " --bind-addr {address}:{port} --auth none"
        + " --disable-telemetry --disable-update-check --user-data-dir {home}/.local/share/code-server"
        + " --extensions-dir {home}/.local/share/code-server/extensions {home}");
    box.startAgent();
    box.startTemplate(0);
    box.api.live("tok-alice");
    assertEquals(204, box.put(0, "alice", "tok-alice"));

    // Alice uses code-server: a page request now and then, at her own pace, until the agent relays it.
    Await.until("a heartbeat from code-server's activity", BOUND, () -> {
      box.templateGet(0, "/");
      return box.api.beats("tok-alice") > 0;
    });

    Files.writeString(box.home(0).resolve("notes.txt"), "alice's notes");
    Path settings = box.home(0).resolve(".local/share/code-server/User/alice-marker.json");
    Files.createDirectories(settings.getParent());
    Files.writeString(settings, "{}");
    aws.tag(box.instance.id(), "Recycle", "1765000000009");
    Await.until("Recycle deleted", BOUND, () -> !aws.instance(box.instance.id()).tags().containsKey("Recycle"));
    assertFalse(Files.exists(box.home(0).resolve("notes.txt")));
    assertFalse(Files.exists(settings), "code-server's user data went too");
    assertEquals(2, box.templateStarts(0).size());
    assertNotNull(box.templateGet(0, "/healthz"), "code-server answers again");
    // The agent logs the recycle just after DeleteTags answered.
    String took = Await.value("the agent's recycle line", BOUND, () -> {
      Matcher m = RECYCLED.matcher(box.logText());
      return m.find() ? m.group(1) : null;
    });
    System.out.println("code-server recycle on the agent: " + took + " ms");
  }
}
