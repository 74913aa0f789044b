package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.HistorySteps;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * Each saga step failing on the real stack: every step started before or beside it is undone
 * (probe, tag, protect, DNS and route start together after the claim), nothing is left, the slot
 * is recycled or quarantined, and the history shows the compensations.
 */
class SagaRollbackEndToEndTest {
  static final FaultInjector faults = new FaultInjector();
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_MAX_HOSTS", "20", "BERTH_SPARES", "2"), faults);
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @AfterEach
  void clear() {
    faults.clear();
  }

  /** Allocates expecting a rollback; returns the ended run's view and the slot it had claimed. */
  private WorkspaceView failedAllocation(String user) {
    f.allocate(user);
    WorkspaceView end = f.awaitEnd(user, Duration.ofSeconds(90));
    assertEquals(WorkspaceState.FAILED, end.state(), end.toString());
    return end;
  }

  private void assertNothingLeft(String user, String slotId) {
    assertFalse(f.hasRoute(user), "route record");
    assertEquals(404, f.viaGateway(user, "/").status());
    assertTrue(f.session(user).isEmpty(), "session");
    assertEquals(null, f.ownerOf(slotId), "owner tag");
    String host = slotId.split("/")[0];
    assertFalse(f.hostProtected(host), "scale-in protection");
  }

  /** The slot ClaimSpare answered: a regular activity's result or, since local-store-steps, its marker's. */
  private String claimedSlot(String user) {
    return historyEvents(user).stream()
        .map(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            ? e.getActivityTaskCompletedEventAttributes().getResult().toString()
            : HistorySteps.localActivityType(e).filter("ClaimSpare"::equals)
                .map(t -> e.getMarkerRecordedEventAttributes().getDetailsMap().get("result").toString()).orElse(""))
        .filter(s -> s.contains("slotId"))
        .map(s -> s.replaceAll("(?s).*slotId\\\\\":\\\\\"([^\\\\]+)\\\\\".*", "$1"))
        .findFirst().orElseThrow();
  }

  private List<HistoryEvent> historyEvents(String user) {
    return f.stack.temporal().client().fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
  }

  private List<String> scheduledActivities(String user) {
    return HistorySteps.activityTypes(historyEvents(user));
  }

  private static List<String> tail(List<String> all, int n) {
    return all.subList(all.size() - n, all.size());
  }

  /** The placement steps run side by side: whichever fails, all five were started and are undone. */
  static final List<String> PLACEMENT_UNDONE = List.of("UnrouteWorkspace", "DeleteRecord", "UnprotectHost",
      "UntagOwner", "Unclaim");

  @Test
  void aTagFailureUndoesTheStepsStartedBesideItAndTheClaim() {
    faults.fail("TagOwner", "tina", () -> ApplicationFailure.newNonRetryableFailure("tag refused", "InvalidInput"));
    WorkspaceView end = failedAllocation("tina");
    assertTrue(end.reason().contains("tag refused"), end.reason());
    String slot = claimedSlot("tina");
    assertNothingLeft("tina", slot);
    assertEquals(PLACEMENT_UNDONE, tail(scheduledActivities("tina"), 5));
    Await.until("the slot back in the pool", Duration.ofSeconds(60),
        () -> f.stack.redis().sismember(f.stack.keys().pool("demo"), slot));
  }

  @Test
  void redisDownAtTheSessionStepUndoesRouteDnsProtectionTagAndClaim() {
    faults.fail("StoreSession", "rita", () -> new JedisConnectionException("Connection refused"));
    WorkspaceView end = failedAllocation("rita");
    assertTrue(end.reason().contains("Connection refused"), end.reason());
    assertNothingLeft("rita", claimedSlot("rita"));
    List<String> acts = scheduledActivities("rita");
    assertEquals(List.of("StoreSession", "DeleteSession", "UnrouteWorkspace", "DeleteRecord", "UnprotectHost",
        "UntagOwner", "Unclaim"), tail(acts, 7));
  }

  /**
   * Dynamic routing: the route record is written, but the gateway never confirms it (Nginx frozen:
   * it accepts and answers nothing). The route step fails after its retries and the saga undoes
   * the record and every step before it. (The files-mode twin, a config that fails {@code nginx -t},
   * is in {@link FilesRoutingEndToEndTest}.)
   */
  @Test
  void aGatewayThatDoesNotConfirmTheRouteRollsItBack() {
    f.ready("olga");
    f.freezeNginx(true);
    WorkspaceView end;
    try {
      end = failedAllocation("nina");
    } finally {
      f.freezeNginx(false);
    }
    assertTrue(end.reason().contains("does not serve route"), end.reason());
    assertNothingLeft("nina", claimedSlot("nina"));
    List<String> acts = scheduledActivities("nina");
    assertEquals(List.of("RouteWorkspace", "UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner",
        "Unclaim"), tail(acts, 6));
    // The other workspace's route was never touched.
    assertTrue(f.asOwner("olga", "/").body().contains("Workspace of olga"));
    f.call("DELETE", "/api/workspaces/me", StackFixture.token("olga"), null);
  }

  @Test
  void aSlotWhoseProbeNeverPassesIsQuarantinedAndItsHostReplaced() {
    // The slot answers nothing the probe accepts, attempt after attempt (retryable, like a real probe).
    faults.fail("AwaitReady", "paul",
        () -> ApplicationFailure.newFailure("slot not ready: GET /healthz failed: ConnectException", "NotReady"));
    WorkspaceView end = failedAllocation("paul");
    assertTrue(end.reason().contains("not ready"), end.reason());
    String slot = claimedSlot("paul");
    assertNothingLeft("paul", slot);
    assertEquals(PLACEMENT_UNDONE, tail(scheduledActivities("paul"), 5));
    String host = slot.split("/")[0];
    Await.until("the quarantined host terminated", Duration.ofSeconds(60),
        () -> f.stack.worker().fleet().describe().hosts().stream().noneMatch(h -> h.hostId().equals(host)));
    f.awaitSpares(2);
  }

}
