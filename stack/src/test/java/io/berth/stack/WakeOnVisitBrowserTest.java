package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Wake on visit in Chromium on the real stack, the fleet scaled to zero: alice's workspace is
 * reclaimed for idleness and its host drained; her URL opened with bob's cookie or with none leads
 * to sign-in and starts nothing; opened with her own cookie it shows what happened and the new
 * workspace's steps (the capacity controller's scale-out is held until the page has shown the wait
 * for capacity), then lands in the new workspace, with no click.
 */
class WakeOnVisitBrowserTest {
  static final Duration IDLE = Duration.ofSeconds(8);
  static final Duration UI = Duration.ofSeconds(30);
  static final HoldScaleOut hold = new HoldScaleOut();
  static StackFixture f;
  static HeadlessChromium chrome;

  /**
   * Holds the capacity controller's scale-out (SetPoolCapacity: its template's host group) while armed (at most 25 s): a cold
   * allocation caught waiting for capacity. It runs in the controller's workflow, not in the
   * workspace's, so the workspace still answers its view query meanwhile.
   */
  static final class HoldScaleOut extends ActivityBoundary {
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile boolean reached;

    void arm() {
      reached = false;
      gate = new CountDownLatch(1);
    }

    void open() {
      gate.countDown();
    }

    @Override
    protected ActivityInboundCallsInterceptor.ActivityOutput around(ActivityInfo info,
        ActivityInboundCallsInterceptor.ActivityInput input,
        Supplier<ActivityInboundCallsInterceptor.ActivityOutput> proceed) {
      if (info.getActivityType().equals("SetPoolCapacity") && gate.getCount() > 0) {
        reached = true;
        try {
          gate.await(25, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return proceed.get();
    }
  }

  @BeforeAll
  static void start() throws IOException {
    Path binary = HeadlessChromium.binary().orElse(null);
    Assumptions.assumeTrue(binary != null, "no Chromium at " + HeadlessChromium.BINARY + ": the browser test is skipped");
    f = StackFixture.start(Map.of("BERTH_IDLE_TIMEOUT", IDLE.toString(), "BERTH_SPARES", "0", "BERTH_MIN_HOSTS", "0",
        "BERTH_ALLOCATE_WAIT", "PT60S"), hold);
    chrome = HeadlessChromium.launch(binary, 1280, 900);
  }

  @AfterAll
  static void stop() {
    try {
      if (chrome != null) {
        chrome.close();
      }
    } finally {
      hold.open();
      if (f != null) {
        f.close();
      }
    }
  }

  private static String url(String user) {
    return "http://" + f.hostname(user) + ":" + f.gatewayPort + "/";
  }

  /** Navigates and waits until the page that the navigation ends on (redirects followed) has loaded. */
  private static String openAndLand(String url, String expectedPrefix) {
    chrome.call("Page.navigate", Map.of("url", url));
    return Await.value("a page at " + expectedPrefix, UI, () -> {
      String href = chrome.eval("location.href").asText();
      return href.startsWith(expectedPrefix) && "complete".equals(chrome.eval("document.readyState").asText())
          ? href : null;
    });
  }

  private static String runId(String user) {
    return f.stack.temporal().client().newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe()
        .getExecution().getRunId();
  }

  @Test
  void theOwnerSeesTheStepsAndLandsInANewWorkspaceAndNobodyElseWakesIt() {
    // alice opens her workspace through its launch link: the browser holds her cookie for her host
    f.ready("alice");
    chrome.eval("location.assign(" + HeadlessChromium.quote(f.launchUrl("alice")) + "), true");
    chrome.awaitText("Workspace of alice", UI);
    String firstWorkspace = f.session("alice").get("workspaceId");
    JsonNode saved = chrome.call("Network.getCookies", Map.of("urls", List.of(url("alice")))).path("cookies");
    assertEquals(1, saved.size(), saved.toString());
    String aliceCookie = saved.get(0).path("value").asText();
    openAndLand("about:blank", "about:blank");
    f.ready("bob");
    String bobCookie = f.launch("bob").split("=", 2)[1];

    // left alone, both are reclaimed, and the fleet scales to zero
    Await.until("alice's route gone", IDLE.plus(Duration.ofSeconds(40)), () -> !f.hasRoute("alice"));
    WorkspaceView end = f.awaitEnd("alice", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    f.awaitEnd("bob", Duration.ofSeconds(60));
    Await.until("the fleet drained to zero", Duration.ofSeconds(90),
        () -> f.stack.worker().fleet().describe().hosts().isEmpty());
    String reclaimedRun = runId("alice");

    // bob's cookie on alice's host, then no cookie at all: sign in, and nothing starts for alice
    chrome.call("Network.clearBrowserCookies", Map.of());
    chrome.call("Network.setCookie", Map.of("name", "berth_ws", "value", bobCookie, "url", url("alice")));
    String login = f.loginRedirect("alice");
    assertEquals(login, openAndLand(url("alice"), f.stack.config().dashboardUrl()));
    chrome.call("Network.clearBrowserCookies", Map.of());
    assertEquals(login, openAndLand(url("alice"), f.stack.config().dashboardUrl()));
    WakeVisit visit = new WakeVisit(f);
    assertEquals(403, visit.post("alice", "/.berth/wake", "berth_ws=" + bobCookie).status(),
        "bob's cookie, from alice's own origin even");
    assertEquals(401, visit.post("alice", "/.berth/wake", null).status());
    assertEquals(reclaimedRun, runId("alice"), "no run started for alice");
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, f.workflowStatus("alice"));
    assertTrue(f.session("alice").isEmpty(), "no session for alice");
    assertFalse(f.hasRoute("alice"));

    // alice, with her cookie: what happened, the steps as they come, then her new workspace
    chrome.call("Network.setCookie", Map.of("name", "berth_ws", "value", aliceCookie, "url", url("alice"),
        "httpOnly", true, "sameSite", "Lax"));
    hold.arm();
    chrome.call("Page.navigate", Map.of("url", url("alice")));
    String page = chrome.awaitText("This workspace was reclaimed", UI);
    assertTrue(page.contains("idle for 8 s"), page);
    chrome.awaitText("Claim a warm spare", UI);
    String steps = chrome.awaitText("Wait for capacity", UI);
    assertTrue(steps.contains("Starting your workspace"), steps);
    Await.until("the scale-out asked for and held", UI, () -> hold.reached);
    hold.open();
    chrome.awaitText("Workspace of alice", UI);
    assertEquals(url("alice"), chrome.eval("location.href").asText(), "the workspace itself, at its own URL");
    String newWorkspace = f.session("alice").get("workspaceId");
    assertNotEquals(firstWorkspace, newWorkspace, "a new workspace");
    assertEquals("demo", f.stack.temporal().client().newWorkflowStub(WorkspaceWorkflow.class,
        WorkspaceWorkflow.idFor("alice")).view().template(), "the last run's template");
    assertEquals(200, chrome.eval("fetch('/healthz').then(r => r.status)").asInt(), "served with the new cookie");
    JsonNode now = chrome.call("Network.getCookies", Map.of("urls", List.of(url("alice")))).path("cookies");
    assertTrue(now.get(0).path("value").asText().contains("." + newWorkspace + "."), now.toString());
    assertTrue(now.get(0).path("httpOnly").asBoolean());
    assertEquals(Labels.labelFor("alice"), f.session("alice").get("label"));
  }
}
