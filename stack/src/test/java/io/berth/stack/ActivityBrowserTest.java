package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A person in Chromium: the dashboard, "Get my workspace", the workspace opened through its link,
 * then mouse and keyboard input (DevTools input events) for three idle timeouts. Only heartbeats
 * count here (BERTH_ACTIVITY=heartbeat), so what keeps the workspace is the demo page's report
 * and the demo server's heartbeat, sent with HttpURLConnection as it is. Then no input: the
 * workspace goes on time, and reopening it shows a page that says so (and wakes it:
 * {@link WakeOnVisitBrowserTest}).
 */
class ActivityBrowserTest {
  static final Duration IDLE = Duration.ofSeconds(6);
  /** The reclaim lead at a 6 s idle timeout: min(idle / 3, 30 s), at least 2 s. */
  static final Duration LEAD = Duration.ofSeconds(2);
  static final Duration UI = Duration.ofSeconds(20);
  static StackFixture f;
  static HeadlessChromium chrome;

  @BeforeAll
  static void start() throws IOException {
    Path binary = HeadlessChromium.binary().orElse(null);
    Assumptions.assumeTrue(binary != null, "no Chromium at " + HeadlessChromium.BINARY + ": the browser test is skipped");
    f = StackFixture.start(Map.of("BERTH_IDLE_TIMEOUT", IDLE.toString(), "BERTH_ACTIVITY", "heartbeat"));
    f.awaitSpares(1);
    chrome = HeadlessChromium.launch(binary, 1280, 900);
  }

  @AfterAll
  static void stop() {
    try {
      if (chrome != null) {
        chrome.close();
      }
    } finally {
      if (f != null) {
        f.close();
      }
    }
  }

  @Test
  void inputKeepsTheWorkspaceSilenceReclaimsItOnTimeAndTheOwnerSeesWhy() throws Exception {
    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.awaitText("Access token", UI);
    chrome.type("#token", StackFixture.token("alice"));
    chrome.click("#signin-form button[type=submit]");
    chrome.awaitText("Signed in as alice", UI);
    chrome.click("#get");
    chrome.awaitText("Your workspace is ready.", UI);
    String launch = chrome.attribute("#ws-link", "href");
    chrome.eval("location.assign(" + HeadlessChromium.quote(launch) + "), true");
    chrome.awaitText("Workspace of alice", UI);

    long start = System.currentTimeMillis();
    for (int i = 0; System.currentTimeMillis() - start < 3 * IDLE.toMillis(); i++) {
      chrome.moveMouse(100 + i % 300, 100 + (i * 7) % 200);
      if (i % 4 == 0) {
        chrome.pressKey("a");
      }
      Thread.sleep(150); // the person's own pace
    }
    long lastInput = System.currentTimeMillis();
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("alice"),
        "three idle timeouts of input kept it");
    assertEquals(200, chrome.eval("fetch('/healthz').then(r => r.status)").asInt(), "still served");
    long lastSeen = Long.parseLong(f.session("alice").get("lastSeen"));
    assertTrue(lastSeen >= start + 2 * IDLE.toMillis(), "heartbeats accepted until the end: last at "
        + (lastSeen - start) + " ms of " + (lastInput - start));

    Await.until("the route gone after the input stopped", IDLE.plus(LEAD).plus(Duration.ofSeconds(10)),
        () -> !f.hasRoute("alice"));
    long gone = System.currentTimeMillis();
    assertTrue(gone - lastInput <= IDLE.plus(LEAD).plusSeconds(2).toMillis(),
        "reclaimed " + (gone - lastInput) + " ms after the last input");
    WorkspaceView end = f.awaitEnd("alice", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());

    // The page the owner's browser gets (read here without running it: its script would wake the workspace).
    String url = "http://" + f.hostname("alice") + ":" + f.gatewayPort + "/";
    String cookie = chrome.call("Network.getCookies", Map.of("urls", java.util.List.of(url))).path("cookies").get(0)
        .path("value").asText();
    String page = io.berth.activities.routing.GatewayClient.get("127.0.0.1", f.gatewayPort, f.hostname("alice"), "/",
        UI, Map.of("Cookie", "berth_ws=" + cookie, "Accept", "text/html")).body();
    assertTrue(page.contains("This workspace was reclaimed"), page);
    assertTrue(page.contains("idle for 6 s"), page);
    assertFalse(page.contains("\"error\""), "a page, not JSON: " + page);
    assertTrue(page.contains("href=\"" + f.stack.config().dashboardUrl() + "\""), "a way to the dashboard: " + page);
  }
}
