package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.AgentHost;
import io.berth.testkit.Await;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Provider {@code aws} with the real berth-agent: every instance the fake group launches runs a
 * template process and a berth-agent process on its 127.0.0.x address (its own metadata service,
 * the wire-level fake for DeleteTags). The worker hands the token to the agent, the agent turns
 * the template's activity into heartbeats to the API, idle reclaim revokes the token and tags
 * {@code Recycle}, and the agent wipes the home, restarts the template and deletes the tag, after
 * which the slot rejoins the pool.
 */
class AwsAgentEndToEndTest {
  static final String GROUP = "berth-workspaces";
  static final Duration IDLE = Duration.ofSeconds(4);

  static FakeAws aws;
  static AgentHosts hosts;
  static StackFixture f;
  static final Map<String, String> savedProperties = new HashMap<>();

  @BeforeAll
  static void start() {
    setProperty("aws.accessKeyId", "AKIDBERTHE2E");
    setProperty("aws.secretAccessKey", "berth-e2e-secret");
    setProperty("aws.disableEc2Metadata", "true");
    int apiPort = FreePorts.next();
    URI api = URI.create("http://127.0.0.1:" + apiPort);
    hosts = new AgentHosts(api);
    aws = hosts.attach(FakeAws.start()).launchDelay(Duration.ofMillis(300)).group(GROUP, 0, 3, 0);
    f = StackFixture.start(Map.ofEntries(
        Map.entry("BERTH_PROVIDER", "aws"),
        Map.entry("BERTH_AWS_ENDPOINT", aws.endpoint().toString()),
        Map.entry("BERTH_AWS_ASG", GROUP),
        Map.entry("BERTH_DNS_MODE", "wildcard"),
        Map.entry("BERTH_DOMAIN", "ws.example.test"),
        Map.entry("BERTH_TEMPLATE", "code-server"),
        Map.entry("BERTH_API_PORT", String.valueOf(apiPort)),
        Map.entry("BERTH_API_URL", api.toString()),
        Map.entry("BERTH_AWS_TEMPLATE_PORT", String.valueOf(hosts.templatePort)),
        Map.entry("BERTH_AWS_AGENT_PORT", String.valueOf(hosts.agentPort)),
        Map.entry("BERTH_MAX_HOSTS", "3"),
        Map.entry("BERTH_IDLE_TIMEOUT", IDLE.toString()),
        Map.entry("BERTH_HEARTBEAT_WINDOW", "PT1S")));
    Await.until("a spare in the pool", Duration.ofSeconds(90), () -> f.spares() >= 1);
  }

  @AfterAll
  static void stop() {
    try {
      if (f != null) {
        f.close();
      }
    } finally {
      hosts.close();
      aws.close();
      savedProperties.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  @Test
  void theAgentRelaysActivityAndRecyclesTheSlotAfterIdleReclaim() throws Exception {
    String id = AllocationEndToEndTest.field(f.ready("alice").body(), "instanceId");
    AgentHost host = hosts.get(id);
    assertNotNull(host, "an agent host for " + id);
    Path tokenFile = host.stateDir().resolve("slot-0.json");
    String held = Files.readString(tokenFile);
    assertTrue(held.contains("\"user\":\"alice\""), "the worker handed alice's token to the agent");
    String token = held.replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
    Files.writeString(host.home(0).resolve("notes.txt"), "alice's notes");

    // Use of the workspace (code-server's heartbeat time moving) keeps it for twice its idle timeout.
    long start = System.currentTimeMillis();
    while (System.currentTimeMillis() - start < 2 * IDLE.toMillis()) {
      host.touch(0);
      Thread.sleep(500); // the user's own pace, not a wait for the system
    }
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("alice"));

    // No use: reclaimed; the agent loses the token and recycles the slot.
    WorkspaceView end = f.awaitEnd("alice", IDLE.multipliedBy(5));
    assertEquals("idle", end.reason());
    long released = System.nanoTime();
    Await.until("Recycle deleted by the agent", Duration.ofSeconds(60), () -> !aws.instance(id).tags().containsKey("Recycle"));
    assertFalse(Files.exists(tokenFile), "the token is gone from the instance");
    assertFalse(Files.exists(host.home(0).resolve("notes.txt")), "alice's file is gone");
    assertEquals(2, host.templateStarts(0).size(), "the template was restarted once");
    List<FakeAws.Call> deletes = aws.calls("DeleteTags");
    assertEquals(id, deletes.get(deletes.size() - 1).params().get("ResourceId.1"));
    Await.until(id + " back in the pool", Duration.ofSeconds(60),
        () -> f.stack.redis().sismember(f.stack.keys().pool("code-server"), id + "/0"));
    // For the record (surefire's output file): how long a recycled slot is out of the pool.
    System.out.println("recycle: workspace ended -> slot back in the pool in " + (System.nanoTime() - released) / 1_000_000 + " ms");
    assertFalse(host.allLogs().contains(token), "the token in the agent's output");
  }

  static void setProperty(String key, String value) {
    savedProperties.put(key, System.getProperty(key));
    System.setProperty(key, value);
  }
}
