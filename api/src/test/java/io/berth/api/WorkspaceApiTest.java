package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@MicronautTest
class WorkspaceApiTest extends ApiTestBase {

  private JsonNode ready(Http.Answer a) {
    assertEquals(200, a.status(), a.body());
    JsonNode body = a.json();
    assertEquals("READY", body.path("state").asText(), a.body());
    return body;
  }

  @Test
  void allocateAnswersReadyWithTheWorkspace() {
    String user = user("alice");
    JsonNode ws = ready(http.post("/api/workspaces", token(user), null));
    String label = Labels.labelFor(user);
    assertEquals(user, ws.path("user").asText());
    assertEquals("http://" + label + ".localhost:8088/", ws.path("url").asText());
    assertEquals("host-1", ws.path("instanceId").asText());
    assertEquals("demo", ws.path("template").asText());
    assertEquals(1800, ws.path("idleTimeoutSeconds").asLong());
    assertTrue(Instant.parse(ws.path("expiresAt").asText()).isAfter(Instant.now().plus(Duration.ofHours(11))));
    assertTrue(Instant.parse(ws.path("idleDeadline").asText()).isAfter(Instant.now()));
    assertTrue(ws.path("steps").size() >= 2, ws.toString());

    JsonNode me = http.get("/api/workspaces/me", token(user)).json();
    assertEquals(ws.path("workspaceId").asText(), me.path("workspaceId").asText());
    // asking again returns the same workspace, not a second one
    assertEquals(ws.path("workspaceId").asText(),
        ready(http.post("/api/workspaces", token(user), "{\"template\":\"demo\"}")).path("workspaceId").asText());
  }

  @Test
  void twentyConcurrentAllocatesGiveOneRunAndIdenticalAnswers() throws Exception {
    String user = user("crowd");
    String t = token(user);
    int n = 20;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<Http.Answer>> answers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        answers.add(pool.submit((Callable<Http.Answer>) () -> {
          go.await();
          return http.post("/api/workspaces", t, null);
        }));
      }
      go.countDown();
      Set<String> ids = new HashSet<>();
      Set<String> urls = new HashSet<>();
      for (Future<Http.Answer> f : answers) {
        JsonNode ws = ready(f.get());
        ids.add(ws.path("workspaceId").asText());
        urls.add(ws.path("url").asText());
      }
      assertEquals(1, ids.size(), "one run (workspaceId is the run id): " + ids);
      assertEquals(1, urls.size());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void oddUserIdsGetSafeLabelsOrA400() {
    for (String odd : List.of("../x", "a;b", "a b", "{", "x/../../etc", "<script>")) {
      JsonNode ws = ready(http.post("/api/workspaces", Jwts.anySubject(secret, odd), null));
      String host = ws.path("url").asText().replaceFirst("^http://", "").replaceFirst("\\.localhost:8088/$", "");
      assertTrue(Labels.validLabel(host), odd + " -> " + host);
      assertEquals(Labels.labelFor(odd), host);
    }
    for (String bad : List.of("new\nline", "tab\there", "x".repeat(300), " ", "nul\u0000")) {
      Http.Answer a = http.post("/api/workspaces", Jwts.anySubject(secret, bad), null);
      assertEquals(400, a.status(), bad + ": " + a.body());
      assertEquals("bad_request", a.json().path("error").asText());
    }
  }

  @Test
  void withOneWorkspacePerUserANamedOneIsRefusedAndTheDefaultOneIsAsBefore() {
    String user = user("solo");
    String t = token(user);
    Http.Answer named = http.post("/api/workspaces", t, "{\"name\":\"dev\"}");
    assertEquals(409, named.status(), named.body());
    assertEquals("workspace_limit", named.json().path("error").asText());
    assertTrue(named.json().path("message").asText().contains("limit is 1 workspace per user"), named.body());
    assertEquals(404, http.get("/api/workspaces/me?name=dev", t).status(), "nothing was started for the name");

    JsonNode ws = ready(http.post("/api/workspaces", t, "{}"));
    assertEquals(user, ws.path("user").asText());
    assertTrue(ws.path("name").isMissingNode() || ws.path("name").isNull(), ws.toString());
    assertEquals("http://" + Labels.labelFor(user) + ".localhost:8088/", ws.path("url").asText());
    assertTrue(http.get("/api/workspaces/me", t).status() == 200);
    JsonNode list = http.get("/api/workspaces", t).json();
    assertEquals(1, list.size(), list.toString());
    assertEquals(ws.path("workspaceId").asText(), list.get(0).path("workspaceId").asText());
    // still only one: asking for the default workspace again returns it
    assertEquals(ws.path("workspaceId").asText(),
        ready(http.post("/api/workspaces", t, null)).path("workspaceId").asText());
  }

  @Test
  void invalidWorkspaceNamesAre400() {
    String t = token(user("names"));
    assertEquals(400, http.post("/api/workspaces", t, "{\"name\":\"\"}").status(), "an empty name");
    for (String bad : List.of("../x", "A", "a".repeat(17), "a b", "a#b", "dev/../x")) {
      Http.Answer post = http.post("/api/workspaces", t, "{\"name\":\"" + bad + "\"}");
      assertEquals(400, post.status(), bad + ": " + post.body());
      assertEquals("bad_request", post.json().path("error").asText());
      String q = java.net.URLEncoder.encode(bad, java.nio.charset.StandardCharsets.UTF_8);
      assertEquals(400, http.get("/api/workspaces/me?name=" + q, t).status(), bad);
      assertEquals(400, http.delete("/api/workspaces/me?name=" + q, t).status(), bad);
    }
  }

  @Test
  void userIdsHoldingTheWorkspaceSeparatorAreRejected() {
    for (String odd : List.of("eve#dev", "#", "eve#")) {
      Http.Answer a = http.post("/api/workspaces", Jwts.anySubject(secret, odd), null);
      assertEquals(400, a.status(), odd + ": " + a.body());
      assertEquals("bad_request", a.json().path("error").asText());
      assertTrue(a.json().path("message").asText().contains("'#'"), a.body());
    }
  }

  @Test
  void unknownTemplateAndMalformedJsonAre400() {
    String t = token(user("tpl"));
    Http.Answer unknown = http.post("/api/workspaces", t, "{\"template\":\"../../bin/sh\"}");
    assertEquals(400, unknown.status(), unknown.body());
    assertEquals("bad_request", unknown.json().path("error").asText());
    Http.Answer notAllowed = http.post("/api/workspaces", t, "{\"template\":\"chromium\"}");
    assertEquals(400, notAllowed.status(), notAllowed.body());
    Http.Answer malformed = http.post("/api/workspaces", t, "{\"template\":");
    assertEquals(400, malformed.status(), malformed.body());
    assertEquals("bad_request", malformed.json().path("error").asText());
  }

  @Test
  void allowedSecondTemplateIsUsed() {
    JsonNode ws = ready(http.post("/api/workspaces", token(user("coder")), "{\"template\":\"code-server\"}"));
    assertEquals("code-server", ws.path("template").asText());
  }

  @Test
  void failedAllocationIs503WithRetryAfter() {
    Http.Answer a = http.post("/api/workspaces", token(user("fail")), null);
    assertEquals(503, a.status(), a.body());
    assertEquals("unavailable", a.json().path("error").asText());
    assertTrue(a.json().path("message").asText().contains("no capacity (test)"), a.body());
    assertTrue(Integer.parseInt(a.header("Retry-After").orElseThrow()) > 0);
  }

  @Test
  void notReadyWithinTheWaitIs202WithLocation() {
    String user = user("slow");
    Http.Answer a = http.post("/api/workspaces", token(user), null);
    assertEquals(202, a.status(), a.body());
    assertEquals("/api/workspaces/me", a.header("Location").orElseThrow());
    assertEquals("PROVISIONING", a.json().path("state").asText());
    assertEquals("PROVISIONING", http.get("/api/workspaces/me", token(user)).json().path("state").asText());
    assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
  }

  @Test
  void aPostAnswersByItsOwnDeadlineWhenNoWorkflowTaskRuns() {
    String user = user("stall");
    long start = System.nanoTime();
    Http.Answer a = http.post("/api/workspaces", token(user), null);
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(202, a.status(), a.body());
    assertEquals("/api/workspaces/me", a.header("Location").orElseThrow());
    assertEquals("ALLOCATING", a.json().path("state").asText(), a.body());
    // The workflow's own bound had not even begun: its first task was still running.
    assertTrue(tookMillis < FakeWorkspaceWorkflow.STALL.toMillis(), "answered after " + tookMillis + " ms");

    // The allocation went on, and asking again finds the same single run.
    Await.until("READY after the stalled task", Duration.ofSeconds(30),
        () -> "READY".equals(http.get("/api/workspaces/me", token(user)).json().path("state").asText()));
    String id = http.get("/api/workspaces/me", token(user)).json().path("workspaceId").asText();
    assertEquals(id, ready(http.post("/api/workspaces", token(user), null)).path("workspaceId").asText());
    assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
  }

  @Test
  void meIs404WithoutAWorkspace() {
    Http.Answer a = http.get("/api/workspaces/me", token(user("nobody")));
    assertEquals(404, a.status(), a.body());
    assertEquals("not_found", a.json().path("error").asText());
    assertEquals(404, http.delete("/api/workspaces/me", token(user("nobody"))).status());
    assertEquals(404, http.post("/api/workspaces/me/extend", token(user("nobody")), null).status());
  }

  @Test
  void extendPushesTheIdleDeadlineWithinBounds() {
    String user = user("ext");
    JsonNode ws = ready(http.post("/api/workspaces", token(user), null));
    Instant before = Instant.parse(ws.path("idleDeadline").asText());
    JsonNode extended = ready(http.post("/api/workspaces/me/extend", token(user), "{\"seconds\":7200}"));
    assertTrue(Instant.parse(extended.path("idleDeadline").asText()).isAfter(before.plusSeconds(3600)));
    assertEquals(200, http.post("/api/workspaces/me/extend", token(user), null).status());
    assertEquals(400, http.post("/api/workspaces/me/extend", token(user), "{\"seconds\":0}").status());
    assertEquals(400, http.post("/api/workspaces/me/extend", token(user), "{\"seconds\":99999999}").status());
    assertEquals(400, http.post("/api/workspaces/me/extend", token(user), "{\"seconds\":\"soon\"}").status());
  }

  @Test
  void releaseThen404ThenAllocateGivesANewWorkspace() {
    String user = user("bob");
    String first = ready(http.post("/api/workspaces", token(user), null)).path("workspaceId").asText();
    Http.Answer released = http.delete("/api/workspaces/me", token(user));
    assertEquals(202, released.status(), released.body());
    assertEquals(user, released.json().path("user").asText());
    // right away: the previous run is still tearing down; the API waits for it and starts a new one
    String second = ready(http.post("/api/workspaces", token(user), null)).path("workspaceId").asText();
    assertNotEquals(first, second);
    assertEquals(second, http.get("/api/workspaces/me", token(user)).json().path("workspaceId").asText());
  }

  @Test
  void meIs404OnceReleased() {
    String user = user("carol");
    ready(http.post("/api/workspaces", token(user), null));
    assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
    Await.until("released workspace to read as 404", Duration.ofSeconds(10),
        () -> http.get("/api/workspaces/me", token(user)).status() == 404);
  }

  @Test
  void overQuotaIs429WithRetryAfter() {
    String user = user("greedy");
    Http.Answer last = null;
    for (int i = 0; i < 31; i++) {
      last = http.post("/api/workspaces", token(user), null);
      if (last.status() == 429) {
        break;
      }
      assertEquals(200, last.status(), last.body());
    }
    assertEquals(429, last.status(), "the 31st allocation within a minute exceeds 30/min");
    assertEquals("rate_limited", last.json().path("error").asText());
    long retry = Long.parseLong(last.header("Retry-After").orElseThrow());
    assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
    // another user is not affected
    assertEquals(200, http.post("/api/workspaces", token(user("modest")), null).status());
  }
}
