package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.testkit.Await;
import io.berth.workflows.RedisKeys;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@MicronautTest
class AdminApiTest extends ApiTestBase {
  private final RedisKeys keys = new RedisKeys("berth:");

  @Test
  void statusShowsTheCapacityWorkflowsFleet() {
    Http.Answer a = http.get("/api/status", admin("op"));
    assertEquals(200, a.status(), a.body());
    JsonNode s = a.json();
    assertEquals(1, s.path("desired").asInt());
    assertEquals(4, s.path("max").asInt());
    assertEquals("host-1", s.path("hosts").path(0).path("hostId").asText(), a.body());
    assertEquals("host-1/0", s.path("hosts").path(0).path("slots").path(0).path("slot").path("slotId").asText());
    assertEquals("scale-out", s.path("decisions").path(0).path("action").asText());
  }

  @Test
  void listComesFromTheReadModelWithNamedFieldsOnly() {
    String user = user("listed");
    long now = System.currentTimeMillis();
    stack.redis.sadd(keys.users(), user);
    stack.redis.hset(keys.workspace(user), Map.of("user", user, "workspaceId", "w-1", "state", "READY",
        "url", "http://x.localhost:8088/", "hostId", "host-1", "slotId", "host-1/0", "lastSeen", String.valueOf(now),
        "secretish", "must-not-show"));
    Http.Answer a = http.get("/api/admin/workspaces", admin("op"));
    assertEquals(200, a.status(), a.body());
    JsonNode entry = null;
    for (JsonNode e : a.json()) {
      if (e.path("user").asText().equals(user)) {
        entry = e;
      }
    }
    assertTrue(entry != null, a.body());
    assertEquals("w-1", entry.path("workspaceId").asText());
    assertEquals("host-1", entry.path("instanceId").asText());
    assertEquals(java.time.Instant.ofEpochMilli(now).toString(), entry.path("lastSeen").asText());
    assertFalse(a.body().contains("must-not-show"));
  }

  @Test
  void forceReleaseEndsTheUsersWorkspace() {
    String user = user("evicted");
    assertEquals(200, http.post("/api/workspaces", token(user), null).status());
    Http.Answer a = http.delete("/api/admin/workspaces/" + user, admin("op"));
    assertEquals(202, a.status(), a.body());
    Await.until("the evicted workspace to end", Duration.ofSeconds(10),
        () -> http.get("/api/workspaces/me", token(user)).status() == 404);
    assertEquals(404, http.delete("/api/admin/workspaces/" + user("never"), admin("op")).status());
  }

  @Test
  void historyListsEventsWithoutPayloads() {
    String user = user("traced");
    assertEquals(200, http.post("/api/workspaces", token(user), null).status());
    stack.workspace(user).heartbeat();
    Http.Answer a = Await.value("history with the signal", Duration.ofSeconds(10), () -> {
      Http.Answer h = http.get("/api/admin/workspaces/" + user + "/history", admin("op"));
      return h.status() == 200 && h.body().contains("WorkflowExecutionSignaled") ? h : null;
    });
    List<String> types = new ArrayList<>();
    List<String> details = new ArrayList<>();
    long lastId = 0;
    for (JsonNode e : a.json()) {
      assertTrue(e.path("eventId").asLong() > lastId);
      lastId = e.path("eventId").asLong();
      assertFalse(e.path("time").asText().isEmpty());
      types.add(e.path("type").asText());
      details.add(e.path("details").asText());
    }
    assertEquals("WorkflowExecutionStarted", types.get(0));
    assertTrue(types.contains("WorkflowExecutionUpdateAccepted"), types.toString());
    assertTrue(details.contains("FakeWorkspaceWorkflow") || details.contains("WorkspaceWorkflow"), details.toString());
    assertTrue(details.contains("allocate"), details.toString());
    assertTrue(details.contains("heartbeat"), details.toString());
    // the start input (user, url, durations) is a payload: it must not appear
    assertFalse(a.body().contains("localhost:8088"), a.body());
    assertEquals(404, http.get("/api/admin/workspaces/" + user("never") + "/history", admin("op")).status());
  }

  @Test
  void badUserInAdminPathIs400() {
    assertEquals(400, http.get("/api/admin/workspaces/" + "x".repeat(300) + "/history", admin("op")).status());
  }
}
