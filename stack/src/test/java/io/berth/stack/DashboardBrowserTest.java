package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.WorkspaceState;
import io.temporal.failure.ApplicationFailure;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real headless Chromium against the whole stack, as a person uses it: sign in,
 * get a workspace and watch it come up, open it through Nginx, extend, release; an operator's fleet,
 * workspaces, history with compensations, and force release. Each state's screenshot is written to
 * target/screenshots/ and checked against the text the page shows.
 */
class DashboardBrowserTest {
  static final Path SHOTS = Path.of("target", "screenshots");
  static final Duration UI = Duration.ofSeconds(20);
  static final Duration SAGA = Duration.ofSeconds(60);
  /** Alice's saga waits at TagOwner until the test has seen it in progress. */
  static final ActivityGate gate = new ActivityGate("TagOwner", "alice", 25);
  static final FaultInjector faults = new FaultInjector();
  static StackFixture f;
  static HeadlessChromium chrome;

  @BeforeAll
  static void start() throws IOException {
    Path binary = HeadlessChromium.binary().orElse(null);
    Assumptions.assumeTrue(binary != null, "no Chromium at " + HeadlessChromium.BINARY
        + " and it could not be installed (apt-get install chromium, as root): the browser test is skipped");
    f = StackFixture.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "10"), gate, faults);
    f.awaitSpares(2);
    chrome = HeadlessChromium.launch(binary, 1280, 900);
  }

  @AfterAll
  static void stop() {
    gate.open();
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

  /** The dashboard, signed out, then signed in with {@code token}. */
  private void signIn(String token, String user) {
    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.eval("sessionStorage.clear()");
    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.awaitText("Access token", UI);
    chrome.type("#token", token);
    chrome.click("#signin-form button[type=submit]");
    chrome.awaitText("Signed in as " + user, UI);
  }

  /** Writes the screenshot and checks it shows a real page in the state the test expects. */
  private void screenshot(String name, String... expected) throws IOException {
    String text = chrome.text();
    for (String e : expected) {
      assertTrue(text.contains(e), name + ": expected \"" + e + "\" on the page:\n" + text);
    }
    Path file = chrome.screenshot(SHOTS.resolve(name + ".png"));
    BufferedImage image = ImageIO.read(file.toFile());
    assertTrue(image != null && image.getWidth() >= 1200 && image.getHeight() >= 300, name + ": not a page-sized PNG");
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 7) {
      for (int x = 0; x < image.getWidth(); x += 7) {
        colours.add(image.getRGB(x, y));
      }
    }
    assertTrue(colours.size() > 8, name + ": the screenshot is (nearly) blank");
  }

  @Test
  void aPersonGetsAWorkspaceWatchesItComeUpOpensItAndReleasesIt() throws IOException {
    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.eval("sessionStorage.clear()");
    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.awaitText("Access token", UI);
    screenshot("01-sign-in", "Sign in", "Access token");
    assertFalse(chrome.text().contains("./berth token"), "no dev hint when the key is given by the launcher");

    signIn(StackFixture.token("alice"), "alice");
    chrome.awaitText("Get my workspace", UI);
    assertTrue(chrome.eval("document.getElementById('ws-multi').hidden").asBoolean(),
        "one workspace per user (the default): no list, no name field");
    assertTrue(chrome.eval("document.getElementById('ws-template-row').hidden").asBoolean(),
        "one template offered: no chooser");
    chrome.click("#get");

    // On the local fleet the placement steps run as local activities inside the workflow task that
    // claimed the slot: held at the tag, that task has not completed, so no step is visible yet
    // (the cold path, which spans tasks, streams its steps: WorkspaceEventsApiTest, CapacityEndToEndTest).
    Await.until("alice's saga held at TagOwner", SAGA, gate::reached);
    String asking = chrome.awaitText("Asking for a workspace", UI);
    assertFalse(asking.contains("Your workspace is ready"), asking);
    screenshot("02-progress", "Asking for a workspace");

    gate.open();
    String ready = chrome.awaitText("Your workspace is ready.", SAGA);
    String url = chrome.eval("document.getElementById('ws-link').textContent").asText();
    assertEquals("http://" + f.hostname("alice") + ":" + f.gatewayPort + "/", url);
    // The link itself is a one-time launch link: the URL alone does not let anyone in.
    String launch = chrome.attribute("#ws-link", "href");
    assertTrue(launch.startsWith(url + ".berth/launch?t="), launch);
    assertTrue(ready.contains(url), ready);
    assertTrue(ready.contains("Route it through the gateway") && ready.contains("Ready"), ready);
    assertTrue(ready.indexOf("Claim a warm spare") < ready.indexOf("Check that it answers")
        && ready.indexOf("Check that it answers") < ready.indexOf("Tag it as yours")
        && ready.indexOf("Tag it as yours") < ready.indexOf("Route it through the gateway"), ready);
    String idle = Await.value("the idle countdown", UI, () -> {
      String t = chrome.eval("document.getElementById('ws-idle').textContent").asText();
      return t.matches("\\d+:\\d\\d(:\\d\\d)?") ? t : null;
    });
    assertTrue(idle.startsWith("29:") || idle.startsWith("30:"), "30 minutes idle timeout, shows " + idle);
    screenshot("03-ready", "Your workspace is ready.", "Idle reclaim in", "Extend", "Release", url);

    chrome.click("#extend");
    chrome.awaitText("Extended", UI);

    // The launch link answers with a redirect to the workspace itself: follow it as a click would.
    chrome.eval("location.assign(" + HeadlessChromium.quote(launch) + "), true");
    chrome.awaitText("Workspace of alice", UI);
    screenshot("04-workspace", "Workspace of alice");

    chrome.navigate(f.stack.apiUrl() + "/");
    chrome.awaitText("Your workspace is ready.", UI); // still signed in: the token is in this tab's session
    chrome.click("#release");
    chrome.awaitText("Click again to confirm", UI);
    chrome.click("#release");
    chrome.awaitText("Released. You have no workspace.", SAGA);
    screenshot("05-released", "Released. You have no workspace.", "Get my workspace", "Tear down");

    assertEquals(404, f.call("GET", "/api/workspaces/me", StackFixture.token("alice"), null).statusCode());
    assertEquals(404, f.viaGateway("alice", "/").status());
  }

  @Test
  void anOperatorSeesTheFleetTheWorkspacesAndAHistoryWithCompensations() throws IOException {
    f.ready("bob");
    faults.fail("TagOwner", "mallory", () -> ApplicationFailure.newNonRetryableFailure("tag refused (test)", "Test"));
    f.allocate("mallory");
    assertEquals(WorkspaceState.FAILED, f.awaitEnd("mallory", SAGA).state());

    signIn(StackFixture.adminToken(), "ops");
    chrome.awaitText("Hosts (actual / desired)", UI);
    String fleet = Await.value("bob's READY workspace listed", UI, () -> {
      String t = chrome.text();
      return t.contains("bob\tREADY") ? t : null;
    });
    assertTrue(fleet.contains("Last scaling decisions") && fleet.contains("RUNNING"), fleet);
    assertTrue(fleet.contains("#0: bob"), "bob's slot shows its owner: " + fleet);
    assertEquals("demo", chrome.eval("document.querySelector('#pools tr').cells[0].textContent").asText(),
        "the one template's pool: " + fleet);
    assertEquals("demo", chrome.eval("document.querySelector('#decisions tr').cells[1].textContent").asText(),
        "each decision names its template: " + fleet);
    screenshot("06-operator", "Fleet", "Workspaces", "bob", "Force release");

    chrome.type("#history-for", "mallory");
    chrome.click("#history-form button[type=submit]");
    String history = chrome.awaitText("compensation", UI);
    assertTrue(history.contains("History of mallory"), history);
    // The tag is a local activity on the local fleet: its failure shows as LocalActivityFailed.
    assertTrue(history.contains("LocalActivityFailed") && history.contains("tag refused (test)"), history);
    // Probe, tag, protect, DNS and route started together: all are undone, then the claim.
    assertEquals(5, chrome.eval("document.querySelectorAll('#history-rows tr.compensation').length").asInt(),
        "five compensations after the failure: " + history);
    assertEquals("UnrouteWorkspace,DeleteRecord,UnprotectHost,UntagOwner,Unclaim",
        chrome.eval("Array.from(document.querySelectorAll('#history-rows tr.compensation'))"
            + ".map(r => r.cells[3].textContent).join(',')").asText());
    screenshot("07-history", "History of mallory", "LocalActivityFailed", "compensation", "UntagOwner");

    chrome.click("#history-close");
    String release = "button[aria-label=\"Force release the workspace of bob\"]";
    chrome.click(release);
    chrome.awaitText("Click again to confirm", UI);
    chrome.click(release);
    assertEquals(WorkspaceState.RELEASED, f.awaitEnd("bob", SAGA).state());
    Await.until("bob gone from the list", UI, () -> !chrome.text().contains("bob\t"));
  }
}
