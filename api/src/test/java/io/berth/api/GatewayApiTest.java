package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.api.access.AccessCookies;
import io.berth.api.access.LaunchTickets;
import io.berth.workflows.Labels;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The API's side of workspace access: launch links, the one-time ticket, the cookie and the
 * auth check Nginx makes, against the real Redis, with dynamic routing (the default). The fake
 * workflow writes no session and no route, so each test writes the {@code ws:<user>} fields the
 * real session step would and the {@code route:<label>} record of the route step.
 */
@MicronautTest
class GatewayApiTest extends ApiTestBase {
  @Inject
  AccessCookies cookies;

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.workspace.extend-rate", "2/min");
    p.put("berth.workspace.launch-rate", "1000/min");
    return p;
  }

  /** Allocates (fake workflow: READY) and writes the session the real workflow would; returns the workspace id. */
  private String readyWithSession(String user) {
    String workspaceId = allocated(user);
    stack.redis.hset("berth:ws:" + user, Map.of("user", user, "workspaceId", workspaceId,
        "label", Labels.labelFor(user), "state", "READY"));
    route(user, "127.0.0.1", 20001);
    return workspaceId;
  }

  /** What the route step writes in dynamic routing. */
  private void route(String user, String address, int port) {
    stack.redis.hset("berth:route:" + Labels.labelFor(user), Map.of("address", address, "port", String.valueOf(port),
        "user", user, "requestId", "req-" + user));
  }

  private RawHttp.Answer authAnswer(String host, String cookie) {
    return RawHttp.get(server.getURI(), "/api/gateway/auth", host, cookie);
  }

  private static String host(String user) {
    return Labels.labelFor(user) + ".localhost";
  }

  private String ticketFrom(String launchUrl) {
    URI u = URI.create(launchUrl);
    assertEquals("/.berth/launch", u.getPath());
    assertTrue(u.getRawQuery().startsWith("t="), launchUrl);
    return u.getRawQuery().substring(2);
  }

  private String newTicket(String user) {
    Http.Answer a = http.post("/api/workspaces/me/launch", token(user), null);
    assertEquals(200, a.status(), a.body());
    assertEquals(LaunchTickets.TTL.toSeconds(), a.json().path("expiresInSeconds").asLong());
    return ticketFrom(a.json().path("url").asText());
  }

  private RawHttp.Answer launch(String host, String ticket, String cookie) {
    return RawHttp.get(server.getURI(), "/api/gateway/launch?t=" + ticket, host, cookie);
  }

  private int auth(String host, String cookie) {
    return RawHttp.get(server.getURI(), "/api/gateway/auth", host, cookie).status();
  }

  /** Opens a launch link and returns the cookie pair it set ({@code berth_ws=...}). */
  private String cookieFor(String user) {
    RawHttp.Answer a = launch(host(user), newTicket(user), null);
    assertEquals(302, a.status());
    return a.header("Set-Cookie").split(";")[0];
  }

  /**
   * A workspace process shares the loopback with the API: calling the gateway endpoints directly,
   * with a valid cookie even, gets nothing without the gateway's token, and a valid ticket is not
   * spent by a refused call.
   */
  @Test
  void onlyTheGatewayTokenOpensTheGatewayEndpoints() {
    String mallory = user("mallory");
    readyWithSession(mallory);
    String cookie = cookieFor(mallory);
    assertEquals(204, auth(host(mallory), cookie), "the gateway's own call passes");
    String ticket = newTicket(mallory);
    for (String token : java.util.Arrays.asList(null, "", "wrong-token-0123456789abcdef0123456789",
        RawHttp.GATEWAY_TOKEN + "x", RawHttp.GATEWAY_TOKEN.substring(1))) {
      for (String path : List.of("/api/gateway/auth", "/api/gateway/route", "/api/gateway/launch?t=" + ticket)) {
        RawHttp.Answer a = RawHttp.get(server.getURI(), path, host(mallory), cookie, token);
        assertEquals(403, a.status(), path + " with token " + (token == null ? "none" : "'" + token + "'"));
        assertNull(a.header("X-Berth-Upstream"), "no upstream leaks to a caller without the token");
        assertNull(a.header("Set-Cookie"), "no cookie for a caller without the token");
      }
    }
    assertEquals(302, launch(host(mallory), ticket, null).status(), "the refused calls did not spend the ticket");
  }

  @Test
  void theLaunchLinkWorksOnceOnItsOwnHostAndSetsAHostOnlyCookie() {
    String alice = user("alice");
    readyWithSession(alice);
    JsonNode me = http.get("/api/workspaces/me", token(alice)).json();
    String launchUrl = me.path("launchUrl").asText();
    assertTrue(launchUrl.startsWith("http://" + host(alice) + ":8088/.berth/launch?t="), me.toString());

    String ticket = ticketFrom(launchUrl);
    RawHttp.Answer first = launch(host(alice), ticket, null);
    assertEquals(302, first.status());
    assertEquals("/", first.header("Location"));
    assertEquals("no-store", first.header("Cache-Control"));
    String setCookie = first.header("Set-Cookie");
    assertTrue(setCookie.startsWith(AccessCookies.NAME + "=v1." + Labels.labelFor(alice) + "."), setCookie);
    for (String attribute : List.of("; Path=/", "; HttpOnly", "; SameSite=Lax", "; Max-Age=43200")) {
      assertTrue(setCookie.contains(attribute), setCookie);
    }
    assertFalse(setCookie.toLowerCase().contains("domain"), "host-only: " + setCookie);
    assertFalse(setCookie.contains("Secure"), "plain http workspaces: " + setCookie);
    String cookie = setCookie.split(";")[0];
    assertEquals(204, auth(host(alice), cookie));

    // The same link again: refused without the cookie, a plain redirect (no new cookie) with it.
    assertEquals(403, launch(host(alice), ticket, null).status());
    RawHttp.Answer again = launch(host(alice), ticket, cookie);
    assertEquals(302, again.status());
    assertNull(again.header("Set-Cookie"));
  }

  @Test
  void noCookieAForgedOneOrAnotherHostIsRefused() {
    String alice = user("alice");
    String bob = user("bob");
    readyWithSession(alice);
    readyWithSession(bob);
    String aliceCookie = cookieFor(alice);
    assertEquals(401, auth(host(alice), null));
    assertEquals(401, auth(host(alice), "berth_ws=v1.forged"));
    assertEquals(401, auth(host(alice), "berth_ws=" + "x".repeat(5000)));
    // alice's cookie on bob's host (the browser would not even send it; a thief might)
    assertEquals(401, auth(host(bob), aliceCookie));
    assertEquals(204, auth(host(bob), "a=1; " + aliceCookie + "; " + cookieFor(bob)));
    // a ticket for alice opened on bob's host sets nothing, and is spent
    String ticket = newTicket(alice);
    assertEquals(403, launch(host(bob), ticket, null).status());
    assertEquals(403, launch(host(alice), ticket, null).status());
    // Hosts that are no workspace of this domain: no route there (403, Nginx's 404)
    for (String h : List.of("localhost", "evil.example", host(alice) + ".evil.example", "x." + host(alice), "")) {
      assertEquals(403, auth(h, aliceCookie), h);
    }
    assertEquals(204, auth(host(alice) + ":8088", aliceCookie), "a port in Host is ignored");
  }

  @Test
  void tamperedAndExpiredCookiesAreRefused() {
    String alice = user("alice");
    String workspaceId = readyWithSession(alice);
    String label = Labels.labelFor(alice);
    long now = System.currentTimeMillis() / 1000;
    String good = cookies.mint(new AccessCookies.Grant(alice, workspaceId, label, now + 600));
    assertEquals(204, auth(host(alice), "berth_ws=" + good));
    assertEquals(401, auth(host(alice), "berth_ws=" + cookies.mint(new AccessCookies.Grant(alice, workspaceId, label,
        now - 1))));
    String[] parts = good.split("\\.");
    String longer = String.join(".", parts[0], parts[1], parts[2], String.valueOf(now + 999_999), parts[4], parts[5]);
    assertEquals(401, auth(host(alice), "berth_ws=" + longer), "expiry is signed");
    char last = parts[5].charAt(0);
    parts[5] = (last == 'A' ? 'B' : 'A') + parts[5].substring(1);
    assertEquals(401, auth(host(alice), "berth_ws=" + String.join(".", parts)), "mac is checked");
    // Signed with another gateway secret
    AccessCookies other = new AccessCookies("cookie", "another-gateway-secret-of-32-bytes-or-more", null);
    assertEquals(401, auth(host(alice), "berth_ws=" + other.mint(new AccessCookies.Grant(alice, workspaceId, label,
        now + 600))));
    // A label that is not the user's own, though signed
    String mallory = user("mallory");
    assertEquals(401, auth(host(alice), "berth_ws=" + cookies.mint(new AccessCookies.Grant(mallory, workspaceId,
        label, now + 600))));
  }

  @Test
  void aNewWorkspaceOrNoneEndsTheCookie() {
    String alice = user("alice");
    readyWithSession(alice);
    String cookie = cookieFor(alice);
    assertEquals(204, auth(host(alice), cookie));
    stack.redis.hset("berth:ws:" + alice, "workspaceId", "another-run");
    assertEquals(401, auth(host(alice), cookie));
    stack.redis.del("berth:ws:" + alice);
    assertEquals(401, auth(host(alice), cookie));
  }

  @Test
  void launchNeedsAJwtAndAWorkspace() {
    assertEquals(401, http.post("/api/workspaces/me/launch", null, null).status());
    assertEquals(401, http.post("/api/workspaces/me/launch", Jwts.unsigned("mallory"), null).status());
    assertEquals(404, http.post("/api/workspaces/me/launch", token(user("nobody")), null).status());
    // READY in the workflow, but no routed session: no link
    String early = user("early");
    assertEquals(200, http.post("/api/workspaces", token(early), null).status());
    assertEquals(409, http.post("/api/workspaces/me/launch", token(early), null).status());
    JsonNode link = http.get("/api/workspaces/me", token(early)).json().path("launchUrl");
    assertTrue(link.isMissingNode() || link.isNull(), link.toString());
  }

  @Test
  void extendIsRateLimitedPerUser() {
    String carol = user("carol");
    readyWithSession(carol);
    assertEquals(200, http.post("/api/workspaces/me/extend", token(carol), null).status());
    assertEquals(200, http.post("/api/workspaces/me/extend", token(carol), null).status());
    Http.Answer third = http.post("/api/workspaces/me/extend", token(carol), null);
    assertEquals(429, third.status(), third.body());
    assertEquals("rate_limited", third.json().path("error").asText());
    assertTrue(Long.parseLong(third.header("Retry-After").orElseThrow()) >= 1);
    // another user has a quota of their own
    String dan = user("dan");
    readyWithSession(dan);
    assertEquals(200, http.post("/api/workspaces/me/extend", token(dan), null).status());
  }

  @Test
  void theAuthAnswerCarriesTheRoutesUpstreamAndNoRouteIsA403WhateverTheCookie() {
    String alice = user("alice");
    readyWithSession(alice);
    String label = Labels.labelFor(alice);
    String cookie = cookieFor(alice);
    RawHttp.Answer pass = authAnswer(host(alice), cookie);
    assertEquals(204, pass.status());
    assertEquals("127.0.0.1:20001", pass.header("X-Berth-Upstream"));
    assertEquals(label, pass.header("X-Berth-Route"));
    // no cookie: 401, and the route's label for the login redirect's header
    RawHttp.Answer denied = authAnswer(host(alice), null);
    assertEquals(401, denied.status());
    assertEquals(label, denied.header("X-Berth-Route"));
    assertNull(denied.header("X-Berth-Upstream"));
    // an IPv6 upstream goes in brackets
    route(alice, "::1", 20002);
    assertEquals("[::1]:20002", authAnswer(host(alice), cookie).header("X-Berth-Upstream"));
    // a record another user wrote for this label (it cannot happen; the cookie still must not pass)
    stack.redis.hset("berth:route:" + label, "user", user("mallory"));
    assertEquals(401, auth(host(alice), cookie));
    route(alice, "127.0.0.1", 20001);
    // a malformed record is no route
    stack.redis.hset("berth:route:" + label, "address", "127.0.0.1;evil");
    assertEquals(403, auth(host(alice), cookie));
    // the route goes (teardown): 403 with the best cookie
    stack.redis.del("berth:route:" + label);
    assertEquals(403, auth(host(alice), cookie));
    assertEquals(403, auth(host(alice), null));
  }

  @Test
  void theRouteCheckNeedsNoCookieAndAnswersFromTheRecord() {
    String bob = user("bob");
    readyWithSession(bob);
    RawHttp.Answer routed = RawHttp.get(server.getURI(), "/api/gateway/route", host(bob), null);
    assertEquals(204, routed.status());
    assertEquals(Labels.labelFor(bob), routed.header("X-Berth-Route"));
    stack.redis.del("berth:route:" + Labels.labelFor(bob));
    RawHttp.Answer gone = RawHttp.get(server.getURI(), "/api/gateway/route", host(bob), null);
    assertEquals(404, gone.status());
    assertNull(gone.header("X-Berth-Route"));
    assertEquals(404, RawHttp.get(server.getURI(), "/api/gateway/route", "evil.example", null).status());
  }

  // ---- traffic through the gateway is activity

  private String lastSeen(String user) {
    return stack.redis.hget("berth:ws:" + user, "lastSeen");
  }

  private RawHttp.Answer passedAs(String user, String cookie, String method, String fetchMode) {
    Map<String, String> h = new HashMap<>(Map.of("X-Berth-Routing", "dynamic", "X-Berth-Method", method));
    if (fetchMode != null) {
      h.put("Sec-Fetch-Mode", fetchMode);
    }
    return RawHttp.get(server.getURI(), "/api/gateway/auth", host(user), cookie, h);
  }

  @Test
  void aRequestTheGatewayLetsThroughIsActivityRecordedOncePerWindow() {
    String user = user("traffic");
    readyWithSession(user);
    String cookie = cookieFor(user);
    long before = System.currentTimeMillis();
    assertEquals(204, passedAs(user, cookie, "GET", "navigate").status());
    String first = lastSeen(user);
    assertTrue(first != null && Long.parseLong(first) >= before, "recorded: " + first);
    assertEquals(Long.parseLong(first), stack.redis.zscore("berth:ws:pings", user).longValue());
    for (int i = 0; i < 20; i++) {
      assertEquals(204, passedAs(user, cookie, "POST", null).status());
    }
    assertEquals(first, lastSeen(user), "one write per window: the window is the idle timeout's tenth");
    io.berth.testkit.Await.until("the window's one signal", java.time.Duration.ofSeconds(10),
        () -> stack.heartbeatSignals(user) >= 1);
    assertEquals(1, stack.heartbeatSignals(user));
  }

  @Test
  void aBackgroundFetchIsNotActivityButAWriteOrAWebSocketIs() {
    String user = user("poller");
    readyWithSession(user);
    String cookie = cookieFor(user);
    for (String mode : List.of("cors", "same-origin", "no-cors")) {
      assertEquals(204, passedAs(user, cookie, "GET", mode).status());
    }
    assertNull(lastSeen(user), "an open tab that only polls is not activity");
    assertEquals(204, passedAs(user, cookie, "PUT", "cors").status());
    assertTrue(lastSeen(user) != null, "the write counted");
  }

  @Test
  void whateverTheBrowserAcceptsTheAuthCheckAnswersForTheCookie() {
    String user = user("accept");
    readyWithSession(user);
    String cookie = cookieFor(user);
    for (String accept : List.of("text/css,*/*;q=0.1", "image/png", "text/csv", "application/javascript", "text/html")) {
      RawHttp.Answer a = RawHttp.get(server.getURI(), "/api/gateway/auth", host(user), cookie,
          Map.of("Accept", accept, "X-Berth-Routing", "dynamic"));
      assertEquals(204, a.status(), accept);
      assertEquals(401, RawHttp.get(server.getURI(), "/api/gateway/auth", host(user), null,
          Map.of("Accept", accept, "X-Berth-Routing", "dynamic")).status(), accept);
    }
  }

  @Test
  void aRequestTheGatewayRefusesIsNotActivity() {
    String user = user("refused");
    readyWithSession(user);
    assertEquals(401, passedAs(user, null, "GET", "navigate").status());
    assertEquals(401, passedAs(user, "berth_ws=v1.forged", "POST", null).status());
    assertNull(lastSeen(user));
    assertEquals(0, stack.heartbeatSignals(user));
  }

  // ---- a host without a route: the owner's page, the way to sign in, the JSON 404

  private RawHttp.Answer gone(String host, String cookie, String accept) {
    return RawHttp.get(server.getURI(), "/api/gateway/gone", host, cookie,
        Map.of("Accept", accept, "X-Berth-Login", "http://127.0.0.1:8080/"));
  }

  @Test
  void theOwnerOfAReleasedWorkspaceGetsAPageSayingSoAndOthersTheWayIn() {
    String user = user("gone");
    readyWithSession(user);
    String cookie = cookieFor(user);
    assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
    stack.redis.del("berth:route:" + Labels.labelFor(user), "berth:ws:" + user);
    io.berth.testkit.Await.until("the run to end", java.time.Duration.ofSeconds(10),
        () -> gone(host(user), cookie, "application/json").body().contains("released"));

    RawHttp.Answer page = gone(host(user), cookie, "text/html,application/xhtml+xml,*/*;q=0.8");
    assertEquals(404, page.status());
    assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
    assertTrue(page.body().contains("This workspace was released"), page.body());
    assertTrue(page.body().contains("released by user"), page.body());
    assertTrue(page.body().contains("href=\"http://127.0.0.1:8080/\""), "a way to the dashboard: " + page.body());

    RawHttp.Answer json = gone(host(user), cookie, "application/json");
    assertEquals(404, json.status());
    assertTrue(json.body().contains("\"not_found\"") && json.body().contains("released by user"), json.body());

    RawHttp.Answer visitor = gone(host(user), null, "text/html");
    assertEquals(302, visitor.status(), "a browser without a cookie goes to sign in");
    assertEquals("http://127.0.0.1:8080/?ws=" + Labels.labelFor(user), visitor.header("Location"));

    RawHttp.Answer client = gone(host(user), null, "*/*");
    assertEquals(404, client.status());
    assertEquals("{\"error\":\"not_found\",\"message\":\"no workspace at this address\"}", client.body().trim());

    RawHttp.Answer otherHost = gone(host(user("else")), cookie, "text/html");
    assertEquals(302, otherHost.status(), "a cookie for one host says nothing about another");
  }

  @Test
  void aLoginHeaderThatIsNotAPlainUrlIsNotUsed() {
    RawHttp.Answer a = RawHttp.get(server.getURI(), "/api/gateway/gone", host(user("x")), null,
        Map.of("Accept", "text/html", "X-Berth-Login", "javascript:alert(1)"));
    assertEquals(404, a.status());
  }
}
