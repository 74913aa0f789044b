package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.api.access.AccessCookies;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.params.SetParams;

/**
 * Wake on visit at the API, as Nginx passes the wake page's calls ({@code /.berth/wake*} to
 * {@code /api/gateway/wake*}, with the gateway token): the owner's cookie on the owner's own origin
 * starts a workspace with the last run's template; another user's cookie, none, a GET, or another
 * origin start nothing and write nothing; a quota or a failed start answers with Retry-After.
 */
@MicronautTest
class WakeApiTest extends ApiTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  @Inject
  AccessCookies cookies;

  private static String host(String user) {
    return Labels.labelFor(user) + ".localhost";
  }

  private static String origin(String user) {
    return "http://" + host(user) + ":8088";
  }

  /** A cookie the owner's browser kept from its last launch on this host (checked without Redis). */
  private String cookieOf(String user, long validForSeconds) {
    long exp = System.currentTimeMillis() / 1000 + validForSeconds;
    return AccessCookies.NAME + "=" + cookies.mint(new AccessCookies.Grant(user, "ended-run", Labels.labelFor(user),
        exp));
  }

  /** A workspace of {@code template} that ran and was released: what the wake page is shown for. */
  private String released(String user, String template) {
    Http.Answer a = http.post("/api/workspaces", token(user), "{\"template\":\"" + template + "\"}");
    assertEquals(200, a.status(), a.body());
    assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
    Await.until(user + "'s run to end", Duration.ofSeconds(15), () -> state(user) == WorkspaceState.RELEASED);
    return runId(user);
  }

  private WorkspaceState state(String user) {
    return stack.workspace(user).view().state();
  }

  private String runId(String user) {
    return stack.workspace(user).view().workspaceId();
  }

  private String quotaCount(String user) {
    return stack.redis.get("berth:quota:allocate:" + user);
  }

  record Answer(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  /** One request as Nginx forwards it: the browser's Host, Cookie and fetch headers, the gateway token. */
  private Answer send(String method, String path, String host, String cookie, Map<String, String> sent) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(server.getHost(), server.getPort()), 5_000);
      s.setSoTimeout(30_000);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
      if (cookie != null) {
        req.append("Cookie: ").append(cookie).append("\r\n");
      }
      sent.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      req.append("X-Berth-Gateway-Token: ").append(RawHttp.GATEWAY_TOKEN).append("\r\n");
      req.append(method.equals("POST") ? "Content-Length: 0\r\n" : "").append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
            (a, b) -> a + "\n" + b);
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers, text.substring(end + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The wake page's own POST: same origin, as Chromium sends it. */
  private Answer wake(String user, String cookie) {
    return send("POST", "/api/gateway/wake", host(user), cookie,
        Map.of("Origin", origin(user), "Sec-Fetch-Site", "same-origin", "Accept", "*/*"));
  }

  @Test
  void theOwnersCookieStartsAWorkspaceWithTheLastTemplateAndEntersItWhenReady() {
    String owner = user("owner");
    String ended = released(owner, "code-server");
    String cookie = cookieOf(owner, 600);

    Answer started = wake(owner, cookie);
    assertEquals(202, started.status(), "READY, but no session yet to enter: " + started.body());
    assertEquals("READY", started.json().path("state").asText(), started.body());
    assertEquals("code-server", started.json().path("template").asText(), "the last run's template");
    assertFalse(started.json().path("entered").asBoolean());
    assertNull(started.header("Set-Cookie"));
    assertEquals("no-store", started.header("Cache-Control"));
    WorkspaceView run = stack.workspace(owner).view();
    assertNotEquals(ended, run.workspaceId(), "a new run");
    assertEquals("code-server", run.template());
    assertEquals("capacity-code-server", stack.startedWith(owner).capacityId(), "the template's own controller");
    assertEquals("2", quotaCount(owner), "the allocation quota counts the wake as it counted the first allocation");

    Answer followed = send("GET", "/api/gateway/wake/status", host(owner), cookie,
        Map.of("Sec-Fetch-Site", "same-origin"));
    assertEquals(200, followed.status(), followed.body());
    assertEquals("READY", followed.json().path("state").asText());
    assertTrue(followed.json().path("steps").toString().contains("claim"), followed.body());

    // The session step of the real workflow, then the route: now the page may enter.
    stack.redis.hset("berth:ws:" + owner, Map.of("user", owner, "workspaceId", run.workspaceId(),
        "label", Labels.labelFor(owner), "state", "READY"));
    stack.redis.hset("berth:route:" + Labels.labelFor(owner), Map.of("address", "127.0.0.1", "port", "20001",
        "user", owner, "requestId", "req-" + owner));
    Answer entered = send("POST", "/api/gateway/wake/enter", host(owner), cookie,
        Map.of("Origin", origin(owner), "Sec-Fetch-Site", "same-origin"));
    assertEquals(200, entered.status(), entered.body());
    assertTrue(entered.json().path("entered").asBoolean());
    String setCookie = entered.header("Set-Cookie");
    assertTrue(setCookie.startsWith(AccessCookies.NAME + "=v1." + Labels.labelFor(owner) + "." + run.workspaceId()
        + "."), setCookie);
    for (String attribute : new String[] {"; Path=/", "; HttpOnly", "; SameSite=Lax"}) {
      assertTrue(setCookie.contains(attribute), setCookie);
    }
    Matcher age = Pattern.compile("Max-Age=(\\d+)").matcher(setCookie);
    assertTrue(age.find() && Long.parseLong(age.group(1)) <= 600, "no longer than the cookie that asked: " + setCookie);
    assertEquals(204, RawHttp.get(server.getURI(), "/api/gateway/auth", host(owner), setCookie.split(";")[0],
        Map.of("X-Berth-Routing", "dynamic")).status(), "the new cookie opens the new workspace");
    assertEquals(401, RawHttp.get(server.getURI(), "/api/gateway/auth", host(owner), cookie,
        Map.of("X-Berth-Routing", "dynamic")).status(), "the old one does not");

    Answer again = wake(owner, cookie);
    assertEquals(200, again.status(), "a READY workspace is entered at once: " + again.body());
    assertTrue(again.json().path("entered").asBoolean());
    assertEquals(runId(owner), run.workspaceId(), "asking again starts nothing new");
  }

  @Test
  void anotherUsersCookieNoCookieAGetOrAnotherOriginStartNothingAndWriteNothing() {
    String alice = user("alice");
    String ended = released(alice, "demo");
    String quota = quotaCount(alice);
    String aliceCookie = cookieOf(alice, 600);
    String bob = user("bob");
    String bobCookie = cookieOf(bob, 600);

    Map<String, Answer> refused = new LinkedHashMap<>();
    refused.put("bob's cookie", wake(alice, bobCookie));
    refused.put("bob's cookie relabelled", wake(alice, bobCookie.replace(Labels.labelFor(bob), Labels.labelFor(alice))));
    refused.put("a forged cookie", wake(alice, AccessCookies.NAME + "=v1.forged"));
    refused.put("an expired cookie", wake(alice, AccessCookies.NAME + "=" + cookies.mint(new AccessCookies.Grant(alice,
        "ended-run", Labels.labelFor(alice), System.currentTimeMillis() / 1000 - 1))));
    refused.put("no cookie", wake(alice, null));
    refused.put("bob's workspace page", send("POST", "/api/gateway/wake", host(alice), aliceCookie,
        Map.of("Origin", origin(bob), "Sec-Fetch-Site", "same-site")));
    refused.put("bob's origin alone", send("POST", "/api/gateway/wake", host(alice), aliceCookie,
        Map.of("Origin", origin(bob))));
    refused.put("a cross-site page", send("POST", "/api/gateway/wake", host(alice), aliceCookie,
        Map.of("Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")));
    refused.put("an opaque origin", send("POST", "/api/gateway/wake", host(alice), aliceCookie,
        Map.of("Origin", "null")));
    refused.put("neither Origin nor Sec-Fetch-Site", send("POST", "/api/gateway/wake", host(alice), aliceCookie,
        Map.of()));
    refused.put("enter from another site", send("POST", "/api/gateway/wake/enter", host(alice), aliceCookie,
        Map.of("Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")));
    refused.put("status read by another site", send("GET", "/api/gateway/wake/status", host(alice), aliceCookie,
        Map.of("Sec-Fetch-Site", "cross-site")));
    refused.forEach((what, a) -> {
      assertTrue(a.status() == 401 || a.status() == 403, what + ": " + a.status() + " " + a.body());
      assertNull(a.header("Set-Cookie"), what);
    });
    assertEquals(401, refused.get("no cookie").status());
    assertEquals(403, refused.get("bob's cookie").status());
    assertEquals(403, refused.get("bob's workspace page").status());

    // A GET (a prefetch, a crawler, a link) starts nothing: the page and the status are reads.
    Answer get = send("GET", "/api/gateway/wake", host(alice), aliceCookie, Map.of("Sec-Fetch-Site", "none"));
    assertNotEquals(200, get.status());
    assertNotEquals(202, get.status());
    Answer page = send("GET", "/api/gateway/gone", host(alice), aliceCookie,
        Map.of("Accept", "text/html", "X-Berth-Login", "http://127.0.0.1:8080/"));
    assertEquals(404, page.status());
    Answer status = send("GET", "/api/gateway/wake/status", host(alice), aliceCookie, Map.of());
    assertEquals(200, status.status(), status.body());
    assertEquals("RELEASED", status.json().path("state").asText());
    // And without the gateway's token nothing reaches the wake at all.
    assertEquals(403, RawHttp.get(server.getURI(), "/api/gateway/wake/status", host(alice), aliceCookie,
        (String) null).status());

    assertEquals(ended, runId(alice), "no run started");
    assertEquals(WorkspaceState.RELEASED, state(alice));
    assertEquals(quota, quotaCount(alice), "no quota counted");
  }

  @Test
  void theGonePageOfTheOwnerIsTheWakePageWithItsScriptUnderANonce() {
    String owner = user("page");
    released(owner, "demo");
    Answer page = send("GET", "/api/gateway/gone", host(owner), cookieOf(owner, 600),
        Map.of("Accept", "text/html", "X-Berth-Login", "http://127.0.0.1:8080/"));
    assertEquals(404, page.status());
    assertTrue(page.body().contains("This workspace was released"), page.body());
    assertTrue(page.body().contains("fetch('/.berth/wake', { method: 'POST'"), "the page starts the wake");
    Matcher nonce = Pattern.compile("<script nonce=\"([A-Za-z0-9_-]{20,})\">").matcher(page.body());
    assertTrue(nonce.find(), page.body());
    String csp = page.header("Content-Security-Policy");
    assertTrue(csp.contains("script-src 'nonce-" + nonce.group(1) + "'") && csp.contains("connect-src 'self'"), csp);
    assertEquals("no-store", page.header("Cache-Control"));
  }

  @Test
  void overTheQuotaTheWakeSaysSoWithRetryAfterAndStartsNothing() {
    String user = user("quota");
    String ended = released(user, "demo");
    stack.redis.set("berth:quota:allocate:" + user, "30", SetParams.setParams().px(45_000));
    Answer a = wake(user, cookieOf(user, 600));
    assertEquals(429, a.status(), a.body());
    assertEquals("rate_limited", a.json().path("error").asText());
    long retryAfter = Long.parseLong(a.header("Retry-After"));
    assertTrue(retryAfter >= 1 && retryAfter <= 45, "Retry-After " + retryAfter);
    assertEquals(ended, runId(user), "no run started");
  }

  @Test
  void aStartThatFailsSaysWhyWithRetryAfter() {
    String user = user("fail");
    Answer a = wake(user, cookieOf(user, 600));
    assertEquals(503, a.status(), a.body());
    assertTrue(a.json().path("message").asText().contains("no capacity (test)"), a.body());
    assertTrue(Long.parseLong(a.header("Retry-After")) >= 1);
  }
}
