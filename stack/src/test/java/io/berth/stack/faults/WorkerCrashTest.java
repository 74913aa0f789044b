package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 1: the worker process dies (SIGKILL) in the middle of an allocation saga and in the
 * middle of a teardown; a new worker process takes over. The saga finishes, or compensates,
 * exactly once; teardown converges; nothing is left over.
 *
 * <p>To catch the saga deterministically inside a step, without a hook in product code, the
 * test freezes the Nginx master (SIGSTOP): the route step writes its file and signals a reload
 * that cannot happen yet, so it waits (up to its 10 s bound) for Nginx to serve. The test kills the
 * worker once the history shows the step scheduled, then lets Nginx go on (SIGCONT). The fault
 * stack runs without a workflow cache (FAULTS.md), so its worker keeps the placement steps regular
 * activities (the in-task ones need the cache: ARCHITECTURE.md).
 */
class WorkerCrashTest {
  static final List<String> SAGA = List.of("ClaimSpare", "AwaitReady", "TagOwner", "ProtectHost", "UpsertRecord",
      "RouteWorkspace", "StoreSession");
  static final List<String> TEARDOWN = List.of("UnrouteWorkspace", "DeleteRecord", "DeleteSession", "RecycleSlot",
      "UntagOwner", "UnprotectHost", "ForgetClaim");
  static FaultStack f;

  @BeforeAll
  static void start() {
    // Files: the frozen master holds the route step inside a reload; dynamic routing has no reload to hold.
    f = FaultStack.start(Map.of("BERTH_SPARES", "2", "BERTH_MAX_HOSTS", "6", "BERTH_ROUTING", "files"));
    f.awaitSpares(2);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  /** Kills the worker while {@code user}'s workflow waits in {@code activityType} behind a frozen Nginx. */
  private void killWorkerDuring(String user, String activityType, Runnable start, Runnable whileDown) {
    killWorkerDuring(user, activityType, start, () -> { }, whileDown);
  }

  /** {@code beforeKill} runs once the step is scheduled, while the worker is still alive. */
  private void killWorkerDuring(String user, String activityType, Runnable start, Runnable beforeKill,
      Runnable whileDown) {
    long nginx = f.nginxMaster();
    FaultStack.signal("STOP", nginx);
    try {
      start.run();
      f.awaitScheduled(user, activityType, Duration.ofSeconds(60));
      beforeKill.run();
      f.worker().kill();
      whileDown.run();
    } finally {
      FaultStack.signal("CONT", nginx);
    }
  }

  @Test
  void aWorkerKilledInTheRouteStepIsReplacedAndTheSagaFinishesOnce() throws Exception {
    CompletableFuture<HttpResponse<String>> call = new CompletableFuture<>();
    killWorkerDuring("ada", "RouteWorkspace", () -> allocateAsync("ada", call), () -> { });
    f.startWorker();

    awaitOrDump("ada", () -> f.view("ada").state() == WorkspaceState.READY);
    HttpResponse<String> r = call.get(90, TimeUnit.SECONDS);
    assertTrue(r.statusCode() == 200 || r.statusCode() == 202, r.statusCode() + " " + r.body());
    assertEquals(SAGA, withoutResyncs(f.scheduled("ada")), "each step scheduled once");
    HistoryEvent routeStarted = started(f.history("ada"), "RouteWorkspace");
    assertEquals(2, routeStarted.getActivityTaskStartedEventAttributes().getAttempt(),
        "the route step ran again on the new worker after the first attempt timed out");
    assertTrue(f.asOwner("ada", "/").body().contains("Workspace of ada"));
    Invariants.awaitHold(f.sources(), List.of("ada"), Duration.ofSeconds(60));
    System.out.println("ada's history after the crash:\n" + excerpt(f.history("ada")));
  }

  @Test
  void aWorkerKilledInTheTeardownIsReplacedAndTheTeardownConverges() {
    f.ready("bob");
    String slot = f.session("bob").get("slotId");
    String dead = identityOf(f.worker());
    killWorkerDuring("bob", "UnrouteWorkspace", () -> assertEquals(202, f.release("bob").statusCode()),
        // With no worker alive, a signal schedules a workflow task: the next worker must get it.
        () -> f.client().newUntypedWorkflowStub(io.berth.workflows.WorkspaceWorkflow.idFor("bob")).signal("heartbeat"));
    String next = identityOf(f.startWorker());

    awaitOrDump("bob", () -> f.client().newUntypedWorkflowStub(io.berth.workflows.WorkspaceWorkflow.idFor("bob"))
        .describe().getStatus() != io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    WorkspaceView end = f.awaitEnd("bob", Duration.ofSeconds(10));
    assertEquals(WorkspaceState.RELEASED, end.state(), end.toString());
    List<String> acts = withoutResyncs(f.scheduled("bob"));
    assertEquals(SAGA, acts.subList(0, SAGA.size()));
    assertEquals(TEARDOWN, acts.subList(SAGA.size(), acts.size()), "each teardown step scheduled once");
    assertEquals(2, started(f.history("bob"), "UnrouteWorkspace").getActivityTaskStartedEventAttributes().getAttempt());
    List<HistoryEvent> events = f.history("bob");
    // A task may time out only when the server handed it to the dying worker's last poll (a race of
    // any crash, seen once): none went to the next worker and then waited, as the sticky trap did.
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) {
        HistoryEvent startedBy = events.get(i - 1);
        assertTrue(startedBy.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                && startedBy.getWorkflowTaskStartedEventAttributes().getIdentity().equals(dead),
            "a workflow task waited for a worker that was not the dead one:\n" + excerpt(events));
      }
    }
    long signaled = events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        .reduce((a, b) -> b).orElseThrow().getEventId();
    assertTrue(events.stream().anyMatch(e -> e.getEventId() > signaled
            && e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
            && e.getWorkflowTaskStartedEventAttributes().getIdentity().equals(next)),
        "the task scheduled while no worker ran went to the next worker " + next + ":\n" + excerpt(events));
    assertEquals(404, f.viaGateway("bob", "/").status());
    assertEquals(null, owner(slot));
    Invariants.awaitHold(f.sources(), List.of("ada", "bob"), Duration.ofSeconds(60));
    System.out.println("bob's history after the crash:\n" + excerpt(events));
  }

  /**
   * Two faults at once: the worker dies in the route step and, while it is down, the workspace's
   * host dies too. The new worker retires the dead host, a step finds it gone (a placement step
   * still in flight, or the session step), and the saga compensates every started step, once.
   */
  @Test
  void aSagaWhoseHostDiedWithTheWorkerCompensatesOnTheNewWorker() throws Exception {
    CompletableFuture<HttpResponse<String>> call = new CompletableFuture<>();
    String[] slot = new String[1];
    // The owner tag runs beside the route step: wait for it (the frozen Nginx holds only the route).
    killWorkerDuring("cy", "RouteWorkspace", () -> allocateAsync("cy", call),
        () -> Await.until("cy's slot tagged", Duration.ofSeconds(30), () -> ownerOf("cy").isPresent()), () -> {
      slot[0] = ownedSlot("cy");
      String[] p = slot[0].split("/");
      long pid = Long.parseLong(f.redis.hget(f.keys.instance(p[0]), "pid." + p[1]));
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      Await.until("the workspace process gone", Duration.ofSeconds(10), () -> ProcessHandle.of(pid).isEmpty());
    });
    f.startWorker();

    HttpResponse<String> r = call.get(120, TimeUnit.SECONDS);
    // Tag, protect and DNS ran beside the route: the ones in flight on the dead worker are retried
    // after their 30 s start-to-close, which can outlast the 30 s allocate wait (then 202).
    assertTrue(r.statusCode() == 503 || r.statusCode() == 202, r.statusCode() + " " + r.body());
    WorkspaceView end = f.awaitEnd("cy", Duration.ofSeconds(60));
    assertEquals(WorkspaceState.FAILED, end.state(), end.toString());
    assertTrue(end.reason().contains("is gone") || end.reason().contains("not ready"), end.reason());
    // Which step meets the dead host depends on what was still in flight: a placement step that
    // ran again on the new worker, or else the session step. Either way each step ran once and
    // every started one was undone once.
    List<String> acts = f.scheduled("cy");
    List<String> expected = new java.util.ArrayList<>(SAGA.subList(0, SAGA.indexOf("StoreSession")));
    if (acts.contains("StoreSession")) {
      expected.addAll(List.of("StoreSession", "DeleteSession"));
    }
    expected.addAll(List.of("UnrouteWorkspace", "DeleteRecord", "UnprotectHost", "UntagOwner", "Unclaim"));
    assertEquals(expected, acts, "each step and each compensation once");
    String host = slot[0].split("/")[0];
    assertFalse(f.fleet().describe().hosts().stream().anyMatch(h -> h.hostId().equals(host)), "dead host retired");
    Invariants.awaitHold(f.sources(), List.of("ada", "bob", "cy"), Duration.ofSeconds(60));
    f.awaitSpares(2);
  }

  /**
   * A READY workspace may store its session and route again when the controller asks it to ({@code resync}:
   * the controller saw the owner tag a moment before the session was written); those are not steps.
   */
  private static List<String> withoutResyncs(List<String> scheduled) {
    List<String> steps = new java.util.ArrayList<>(scheduled.subList(0, Math.min(SAGA.size(), scheduled.size())));
    scheduled.subList(steps.size(), scheduled.size()).stream()
        .filter(a -> !a.equals("StoreSession") && !a.equals("RouteWorkspace"))
        .forEach(steps::add);
    return steps;
  }

  private static void allocateAsync(String user, CompletableFuture<HttpResponse<String>> result) {
    CompletableFuture.runAsync(() -> {
      try {
        result.complete(f.allocate(user));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
  }

  private static String ownedSlot(String user) {
    return ownerOf(user).orElseThrow();
  }

  private static java.util.Optional<String> ownerOf(String user) {
    return f.fleet().describe().hosts().stream().flatMap(h -> h.slots().stream())
        .filter(s -> user.equals(s.owner())).findFirst().map(s -> s.slot().slotId());
  }

  /** A test that failed while its worker was down must not leave the next test without one. */
  @AfterEach
  void workerRunning() {
    if (!f.worker().alive()) {
      f.startWorker();
    }
  }

  private static String owner(String slotId) {
    return f.fleet().describe().hosts().stream().flatMap(h -> h.slots().stream())
        .filter(s -> s.slot().slotId().equals(slotId)).findFirst().map(s -> s.owner()).orElse(null);
  }

  /** The SDK's default identity, pid@hostname: what WorkflowTaskStarted events name. */
  private static String identityOf(JavaProcess worker) {
    return worker.pid() + "@" + hostname();
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "";
    }
  }

  /** Waits (bounded) for the condition; on failure prints the user's history and the worker's log. */
  static void awaitOrDump(String user, java.util.function.BooleanSupplier condition) {
    try {
      Await.until(user + "'s workflow to get there", Duration.ofSeconds(90), condition);
    } catch (AssertionError e) {
      System.out.println(user + "'s history:\n" + excerpt(f.history(user)));
      // Without stack frames: the log lines of a long retry would push the story out of view.
      List<String> lines = f.worker().log().lines().filter(l -> !l.startsWith("\tat ") && !l.startsWith("\t..."))
          .toList();
      System.out.println("worker log:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 150), lines.size())));
      throw e;
    }
  }

  private static HistoryEvent started(List<HistoryEvent> events, String activityType) {
    long scheduledId = events.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            && e.getActivityTaskScheduledEventAttributes().getActivityType().getName().equals(activityType))
        .findFirst().orElseThrow().getEventId();
    return events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            && e.getActivityTaskStartedEventAttributes().getScheduledEventId() == scheduledId)
        .findFirst().orElseThrow(() -> new AssertionError(activityType + " never started"));
  }

  /** One line per event: id, type, activity and attempt, failures; what the report quotes. */
  static String excerpt(List<HistoryEvent> events) {
    StringBuilder b = new StringBuilder();
    Map<Long, String> names = new java.util.HashMap<>();
    for (HistoryEvent e : events) {
      String line = e.getEventId() + " " + e.getEventType().name().replace("EVENT_TYPE_", "");
      switch (e.getEventType()) {
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          names.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
          line += " " + names.get(e.getEventId());
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> line += " " + names.get(e.getActivityTaskStartedEventAttributes()
            .getScheduledEventId()) + " attempt=" + e.getActivityTaskStartedEventAttributes().getAttempt()
            + (e.getActivityTaskStartedEventAttributes().hasLastFailure()
                ? " lastFailure=" + e.getActivityTaskStartedEventAttributes().getLastFailure().getMessage() : "");
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> line += " " + names.get(e.getActivityTaskCompletedEventAttributes()
            .getScheduledEventId());
        case EVENT_TYPE_ACTIVITY_TASK_FAILED -> line += " " + names.get(e.getActivityTaskFailedEventAttributes()
            .getScheduledEventId()) + ": " + e.getActivityTaskFailedEventAttributes().getFailure().getMessage();
        case EVENT_TYPE_WORKFLOW_TASK_SCHEDULED -> line += " on " + e.getWorkflowTaskScheduledEventAttributes()
            .getTaskQueue().getName() + " (" + e.getWorkflowTaskScheduledEventAttributes().getTaskQueue().getKind()
            .name().replace("TASK_QUEUE_KIND_", "") + ")";
        case EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT -> line += " " + e.getWorkflowTaskTimedOutEventAttributes()
            .getTimeoutType().name();
        case EVENT_TYPE_WORKFLOW_TASK_STARTED -> line += " by " + e.getWorkflowTaskStartedEventAttributes()
            .getIdentity();
        default -> { }
      }
      b.append("  ").append(line).append('\n');
    }
    return b.toString();
  }
}
