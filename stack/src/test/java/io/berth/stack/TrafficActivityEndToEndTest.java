package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An HTTP service with no agent (template {@code command}: python's http.server) sends no
 * heartbeat: only the requests people make through the gateway keep it. Berth's own probes of the
 * slot and the gateway's route checks do not.
 */
class TrafficActivityEndToEndTest {
  static final Duration IDLE = Duration.ofSeconds(4);
  /** The reclaim lead at a 4 s idle timeout: min(idle / 3, 30 s), at least 2 s. */
  static final Duration LEAD = Duration.ofSeconds(2);
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of(
        "BERTH_TEMPLATE", "command",
        "BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --bind 127.0.0.1",
        "BERTH_IDLE_TIMEOUT", IDLE.toString()));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void requestsThroughTheGatewayKeepAWorkspaceWithoutAnAgentAndSilenceReclaimsItOnTime() throws Exception {
    f.ready("carol");
    String cookie = f.launch("carol");
    long start = System.currentTimeMillis();
    long last = start;
    while (System.currentTimeMillis() - start < 3 * IDLE.toMillis()) {
      assertEquals(200, f.viaGateway("carol", "/", cookie).status());
      last = System.currentTimeMillis();
      Thread.sleep(2000); // a person's pace: one request every 2 s
    }
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("carol"),
        "three idle timeouts of requests kept it");
    assertEquals(200, f.viaGateway("carol", "/", cookie).status());
    last = System.currentTimeMillis();

    // No requests now; the controller goes on probing and the gateway's route check is asked.
    for (int i = 0; i < 3; i++) {
      f.gatewayGet(f.hostname("carol"), "/.berth/route", null);
    }
    Await.until("the route gone", IDLE.plus(LEAD).plusSeconds(10), () -> !f.hasRoute("carol"));
    long gone = System.currentTimeMillis();
    assertTrue(gone - last <= IDLE.plus(LEAD).plusSeconds(2).toMillis(), "reclaimed " + (gone - last) + " ms after");
    assertTrue(gone - last >= IDLE.toMillis() - 1000, "not before its idle timeout: " + (gone - last) + " ms");
    assertEquals("idle", f.awaitEnd("carol", Duration.ofSeconds(30)).reason());
  }
}
