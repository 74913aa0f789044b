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
import java.util.Arrays;
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
 * Wake on visit in Chromium on the real stack: alice's workspace is reclaimed for idleness; her
 * URL opened with bob's cookie or with none leads to sign-in and starts nothing; opened with her
 * own cookie it shows what happened and the new workspace's steps (the saga is held at its tag
 * step until the page has shown them), then lands in the new workspace, with no click.
 */
class WakeOnVisitBrowserTest {
  static final Duration IDLE = Duration.ofSeconds(8);
  static final Duration UI = Duration.ofSeconds(30);
  static final HoldTag hold = new HoldTag("alice");
  static StackFixture f;
  static HeadlessChromium chrome;

  /** Holds alice's TagOwner step while armed (at most 25 s): the wake caught midway. */
  static final class HoldTag extends ActivityBoundary {
    private final String user;
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile boolean reached;

    HoldTag(String user) {
      this.user = user;
    }

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
      if (info.getActivityType().equals("TagOwner")
          && Arrays.deepToString(input.getArguments()).endsWith(", " + user + "]")) {
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
    f = StackFixture.start(Map.of("BERTH_IDLE_TIMEOUT", IDLE.toString()), hold);
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

    // left alone, it is reclaimed
    Await.until("alice's route gone", IDLE.plus(Duration.ofSeconds(40)), () -> !f.hasRoute("alice"));
    WorkspaceView end = f.awaitEnd("alice", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    String reclaimedRun = runId("alice");

    // bob's cookie on alice's host, then no cookie at all: sign in, and nothing starts for alice
    String bobCookie = f.launch(readyBob()).split("=", 2)[1];
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
    Await.until("the saga at its tag step", UI, () -> hold.reached);
    String steps = chrome.awaitText("Check that it answers", UI);
    assertTrue(steps.contains("Starting your workspace"), steps);
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

  private static String readyBob() {
    f.ready("bob");
    return "bob";
  }
}
