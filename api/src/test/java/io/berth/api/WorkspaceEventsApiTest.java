package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /api/workspaces/me/events against the fake workflows: steps once and in order, the states, the end. */
@MicronautTest
class WorkspaceEventsApiTest extends ApiTestBase {
  static final String EVENTS = "/api/workspaces/me/events";
  static final Duration BOUND = Duration.ofSeconds(20);
  SseClient sse;

  @BeforeAll
  void sse() {
    sse = new SseClient(server.getURI());
  }

  /** Opens the stream as soon as the workflow exists (the allocation may still be starting it). */
  private SseClient.EventStream openWhileAllocating(String token) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (true) {
      SseClient.EventStream s = sse.open(EVENTS, token);
      if (s.status() == 200) {
        return s;
      }
      String body = s.body();
      assertEquals(404, s.status(), body);
      assertTrue(System.nanoTime() < deadline, "the workflow never appeared");
      Thread.sleep(20);
    }
  }

  private static List<String> names(List<SseClient.Sse> events, String kind) {
    List<String> out = new ArrayList<>();
    for (SseClient.Sse e : events) {
      if (kind.equals(e.event())) {
        out.add(kind.equals("step") ? e.json().path("step").asText() : e.json().path("state").asText());
      }
    }
    return out;
  }

  @Test
  void stepsComeOnceInOrderAndTheStreamEndsOnReady() throws Exception {
    String user = user("watch");
    CompletableFuture<Http.Answer> allocation = CompletableFuture.supplyAsync(
        () -> http.post("/api/workspaces", token(user), null));
    List<SseClient.Sse> events;
    try (SseClient.EventStream s = openWhileAllocating(token(user))) {
      assertTrue(s.contentType().startsWith("text/event-stream"), s.contentType());
      events = s.rest(BOUND);
    }
    assertEquals(200, allocation.get().status());

    assertEquals(List.of("claim", "ready"), names(events, "step"), events.toString());
    List<String> states = names(events, "state");
    assertEquals("READY", states.get(states.size() - 1), events.toString());
    for (int i = 1; i < states.size(); i++) {
      assertNotEquals(states.get(i - 1), states.get(i), "a state is sent when it changes: " + states);
    }
    SseClient.Sse last = events.get(events.size() - 1);
    assertEquals("state", last.event(), "the final event is the workspace: " + events);
    assertEquals(user, last.json().path("user").asText());
    assertTrue(last.json().path("url").asText().startsWith("http://"), last.data());
    assertEquals(2, last.json().path("steps").size(), last.data());
    // the ready step comes before the READY state
    int readyStep = -1;
    for (int i = 0; i < events.size(); i++) {
      if ("step".equals(events.get(i).event()) && events.get(i).json().path("step").asText().equals("ready")) {
        readyStep = i;
      }
    }
    assertEquals(events.size() - 2, readyStep, events.toString());
    Set<String> ids = new HashSet<>();
    events.forEach(e -> assertTrue(ids.add(e.id()), "event ids are unique: " + events));
  }

  @Test
  void aReadyWorkspaceIsSentAtOnceAndTheStreamEnds() throws Exception {
    String user = user("settled");
    assertEquals(200, http.post("/api/workspaces", token(user), null).status());
    try (SseClient.EventStream s = sse.open(EVENTS, token(user))) {
      assertEquals(200, s.status());
      List<SseClient.Sse> events = s.rest(BOUND);
      assertEquals(List.of("claim", "ready"), names(events, "step"));
      assertEquals(List.of("READY"), names(events, "state"));
    }
  }

  @Test
  void aWorkspaceThatIsStillComingUpIsFollowedThroughItsRelease() throws Exception {
    String user = user("slow");
    assertEquals(202, http.post("/api/workspaces", token(user), null).status());
    try (SseClient.EventStream s = sse.open(EVENTS, token(user))) {
      assertEquals(200, s.status());
      SseClient.Sse step = s.next(BOUND);
      assertEquals("step", step.event());
      assertEquals("claim", step.json().path("step").asText());
      SseClient.Sse state = s.next(BOUND);
      assertEquals("PROVISIONING", state.json().path("state").asText());
      // nothing changes while it waits for capacity: the stream stays open and quiet
      assertEquals(null, s.events.poll(1, java.util.concurrent.TimeUnit.SECONDS));

      assertEquals(202, http.delete("/api/workspaces/me", token(user)).status());
      List<SseClient.Sse> rest = s.rest(BOUND);
      // The stream samples the workflow (every 250 ms): a short RELEASING may fall between two looks,
      // but the states it does send come in order and end with RELEASED.
      List<String> states = names(rest, "state");
      assertTrue(states.equals(List.of("RELEASING", "RELEASED")) || states.equals(List.of("RELEASED")),
          rest.toString());
      assertEquals(List.of(), names(rest, "step"), "no step is sent twice: " + rest);
    }
    SseClient.EventStream after = sse.open(EVENTS, token(user));
    assertEquals(404, after.status(), "a released workspace has nothing to follow");
  }

  @Test
  void aFailedAllocationIsShownOnceWithItsReason() throws Exception {
    String user = user("fail");
    assertEquals(503, http.post("/api/workspaces", token(user), null).status());
    try (SseClient.EventStream s = sse.open(EVENTS, token(user))) {
      assertEquals(200, s.status());
      List<SseClient.Sse> events = s.rest(BOUND);
      assertEquals(List.of("FAILED"), names(events, "state"));
      assertEquals("no capacity (test)", events.get(events.size() - 1).json().path("reason").asText());
    }
  }

  @Test
  void noWorkspaceIsA404InJsonAndNoTokenA401() throws Exception {
    SseClient.EventStream none = sse.open(EVENTS, token(user("nobody")));
    assertEquals(404, none.status());
    assertTrue(none.contentType().startsWith("application/json"), none.contentType());
    String body = none.body();
    assertTrue(body.contains("\"not_found\""), body);

    SseClient.EventStream anonymous = sse.open(EVENTS, null);
    assertEquals(401, anonymous.status());
    assertFalse(anonymous.contentType().startsWith("text/event-stream"));
    anonymous.close();
  }
}
