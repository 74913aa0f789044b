package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.routing.GatewayClient;
import io.berth.workflows.Labels;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Only the owner reaches a workspace, on the real stack: Nginx asks the API about every request
 * (auth_request), the owner gets in through a one-time launch link that sets a cookie bound to
 * the workspace's host and workspace id.
 */
class WorkspaceAccessEndToEndTest {
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "20"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static void assertSentToTheDashboard(String owner, GatewayClient.Answer a) {
    assertEquals(302, a.status(), a.headers() + " " + a.body());
    assertEquals(f.loginRedirect(owner), a.header("Location"));
    assertTrue(!a.body().contains("Workspace of"), a.body());
  }

  @Test
  void noSessionOrAnotherUsersSessionCannotOpenAlicesWorkspace() {
    f.ready("alice");
    f.ready("bob");
    String bobCookie = f.launch("bob");
    assertEquals(200, f.viaGateway("bob", "/", bobCookie).status(), "bob's cookie opens bob's workspace");

    // The right Host header alone, a made-up cookie, bob's cookie: none opens alice's workspace.
    assertSentToTheDashboard("alice", f.viaGateway("alice", "/"));
    assertSentToTheDashboard("alice", f.viaGateway("alice", "/healthz"));
    assertSentToTheDashboard("alice", f.viaGateway("alice", "/", "berth_ws=v1." + Labels.labelFor("alice") + ".x.1.x.x"));
    assertSentToTheDashboard("alice", f.viaGateway("alice", "/", bobCookie));
    // Bob's JWT only ever gets links to bob's own workspace.
    assertTrue(f.launchUrl("bob").startsWith("http://" + f.hostname("bob") + ":"), f.launchUrl("bob"));
    // The readiness path stays open without a cookie (the route step relies on it): with dynamic
    // routing the API answers it from the route record, with route files Nginx itself.
    assertEquals(204, f.viaGateway("alice", "/.berth/route").status());
    assertEquals(Labels.labelFor("alice"), f.viaGateway("alice", "/.berth/route").header("X-Berth-Route"));
  }

  @Test
  void aLaunchLinkWorksOnce() {
    f.ready("carol");
    String link = f.launchUrl("carol");
    GatewayClient.Answer first = f.open(link, null);
    assertEquals(302, first.status(), first.body());
    assertEquals("/", first.header("Location"));
    String setCookie = first.header("Set-Cookie");
    assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"), setCookie);
    assertTrue(!setCookie.toLowerCase().contains("domain="), "host-only cookie: " + setCookie);
    String cookie = setCookie.split(";")[0];
    GatewayClient.Answer page = f.viaGateway("carol", "/", cookie);
    assertEquals(200, page.status());
    assertTrue(page.body().contains("Workspace of carol"), page.body());

    GatewayClient.Answer second = f.open(link, null);
    assertEquals(403, second.status(), "a used link opens nothing: " + second.body());
    assertNull(second.header("Set-Cookie"));
    // A ticket that was never minted, or a link without one
    assertEquals(403, f.open(link.replaceAll("t=.*", "t=" + "A".repeat(43)), null).status());
    assertEquals(403, f.open(link.replaceAll("\\?t=.*", ""), null).status());
  }

  @Test
  void aCookieForAlicesLabelDoesNotWorkOnBobsHost() {
    f.ready("dora");
    f.ready("emil");
    String doraCookie = f.launch("dora");
    assertEquals(200, f.viaGateway("dora", "/", doraCookie).status());
    assertSentToTheDashboard("emil", f.viaGateway("emil", "/", doraCookie));
    // dora's launch link opened on emil's host sets nothing there (and is spent)
    String link = f.launchUrl("dora");
    GatewayClient.Answer elsewhere = f.gatewayGet(f.hostname("emil"), link.substring(link.indexOf("/.berth/")), null);
    assertEquals(403, elsewhere.status());
    assertNull(elsewhere.header("Set-Cookie"));
    assertEquals(403, f.open(link, null).status());
  }

  @Test
  void afterReleaseAndReallocationTheOldCookieAndHeartbeatTokenAreDead() {
    String before = AllocationEndToEndTest.field(f.ready("fern").body(), "workspaceId");
    String oldCookie = f.launch("fern");
    String oldToken = f.workspaceToken("fern");
    assertEquals(200, f.viaGateway("fern", "/", oldCookie).status());
    assertEquals(204, f.heartbeat(oldToken).statusCode());

    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("fern"), null).statusCode());
    f.awaitEnd("fern", Duration.ofSeconds(60));
    assertEquals(404, f.viaGateway("fern", "/", oldCookie).status(), "no route at all once released");
    assertEquals(401, f.heartbeat(oldToken).statusCode(), "a leaked heartbeat token dies with its workspace");

    String after = AllocationEndToEndTest.field(f.ready("fern").body(), "workspaceId");
    assertNotEquals(before, after);
    // Same user, same label, same host: the cookie of the old workspace no longer opens the new one.
    assertSentToTheDashboard("fern", f.viaGateway("fern", "/", oldCookie));
    assertEquals(401, f.heartbeat(oldToken).statusCode());
    GatewayClient.Answer fresh = f.asOwner("fern", "/");
    assertEquals(200, fresh.status());
    assertTrue(fresh.body().contains("Workspace of fern"), fresh.body());
    f.call("DELETE", "/api/workspaces/me", StackFixture.token("fern"), null);
  }
}
