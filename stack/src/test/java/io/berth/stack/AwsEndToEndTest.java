package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.testkit.FakeAgent;
import io.berth.testkit.FakeAws;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole stack with {@code BERTH_PROVIDER=aws}: the worker's AWS SDK clients talk to
 * {@link FakeAws}, whose group launches instances on 127.0.0.x. Each instance gets what its user
 * data would start: a template (a small page on the template port) and the agent (a
 * {@link FakeAgent} on the agent port, plus a tag watcher that restarts the template on
 * {@code Recycle} and then deletes the tag). Nginx routes to the instance address, Route 53
 * records live in the fake's hosted zone.
 */
class AwsEndToEndTest {
  static final String GROUP = "berth-workspaces";
  static final String ZONE = "Z0BERTHE2E";
  static final String DOMAIN = "ws.example.test";
  static final Duration IDLE = Duration.ofSeconds(4);

  static FakeAws aws;
  static StackFixture f;
  static final AwsBoxes boxes = new AwsBoxes();
  static final Map<String, String> savedProperties = new HashMap<>();

  @BeforeAll
  static void start() {
    // Dummy credentials for the SDK's default chain; no metadata service lookups off this machine.
    setProperty("aws.accessKeyId", "AKIDBERTHE2E");
    setProperty("aws.secretAccessKey", "berth-e2e-secret");
    setProperty("aws.disableEc2Metadata", "true");
    aws = boxes.attach(FakeAws.start()).zone(ZONE, DOMAIN).launchDelay(Duration.ofMillis(300)).group(GROUP, 0, 4, 0);
    f = StackFixture.start(Map.ofEntries(
        Map.entry("BERTH_PROVIDER", "aws"),
        Map.entry("BERTH_AWS_ENDPOINT", aws.endpoint().toString()),
        Map.entry("BERTH_AWS_ASG", GROUP),
        Map.entry("BERTH_AWS_HOSTED_ZONE_ID", ZONE),
        Map.entry("BERTH_DNS_MODE", "record"),
        Map.entry("BERTH_DOMAIN", DOMAIN),
        Map.entry("BERTH_AWS_TEMPLATE_PORT", String.valueOf(boxes.templatePort)),
        Map.entry("BERTH_AWS_AGENT_PORT", String.valueOf(boxes.agentPort)),
        Map.entry("BERTH_MAX_HOSTS", "4"),
        Map.entry("BERTH_IDLE_TIMEOUT", IDLE.toString()),
        Map.entry("BERTH_HEARTBEAT_WINDOW", "PT1S"),
        // Throttled calls add SDK and Temporal backoff to an allocation: room for that on a loaded machine.
        Map.entry("BERTH_ALLOCATE_WAIT", "PT50S")));
    awaitASpare();
  }

  @AfterAll
  static void stop() {
    try {
      if (f != null) {
        f.close();
      }
    } finally {
      boxes.close();
      if (aws != null) {
        aws.close();
      }
      savedProperties.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  @Test
  void allocationHeartbeatsIdleReclaimAndTeardownOnTheGroup() throws Exception {
    HttpResponse<String> r = f.ready("alice");
    String host = AllocationEndToEndTest.field(r.body(), "instanceId");
    AwsBoxes.Box box = boxes.get(host);
    assertNotNull(box, "a box for " + host);
    String name = f.hostname("alice") + ".";
    assertTrue(name.endsWith("." + DOMAIN + "."), name);

    // Route 53: one UPSERT of <label>.<domain> A <instance address>, TTL 30.
    FakeAws.RecordSet record = record(name);
    assertNotNull(record, "record for " + name + " in " + aws.records(ZONE));
    assertEquals(List.of(box.address), record.values());
    assertEquals(30, record.ttl());
    assertEquals(1, aws.calls("ChangeResourceRecordSets").stream()
        .filter(c -> c.body().contains("<Action>UPSERT</Action>") && c.body().contains(name)).count());
    // The instance: owned and protected from scale-in; the agent holds the heartbeat token.
    assertEquals("alice", aws.instance(host).tags().get("Owner"));
    assertEquals("false", aws.instance(host).tags().get("WarmSpare"));
    assertTrue(aws.instance(host).protectedFromScaleIn());
    FakeAgent.Credentials creds = box.agent.credentials(0);
    assertEquals("alice", creds.user());
    // Nginx routes the workspace's Host to <instance address>:<template port>.
    Map<String, String> route = f.stack.redis().hgetAll(f.stack.keys().route(io.berth.workflows.Labels.labelFor("alice")));
    assertEquals(box.address, route.get("address"), route.toString());
    assertEquals(String.valueOf(boxes.templatePort), route.get("port"), route.toString());
    assertEquals(302, f.viaGateway("alice", "/").status(), "without the owner's cookie");
    var page = f.asOwner("alice", "/");
    assertEquals(200, page.status());
    assertTrue(page.body().contains("Workspace of alice on " + box.address), page.body());

    // The agent's heartbeats keep the workspace for twice its idle timeout.
    long start = System.currentTimeMillis();
    while (System.currentTimeMillis() - start < 2 * IDLE.toMillis()) {
      assertEquals(204, f.heartbeat(creds.token()).statusCode());
      Thread.sleep(500); // the agent's own pace, not a wait for the system
    }
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, f.workflowStatus("alice"));
    int generation = box.generation.get();

    // Silence: reclaimed, and everything the allocation did is undone on the group and the zone.
    WorkspaceView end = f.awaitEnd("alice", IDLE.multipliedBy(5));
    assertEquals("idle", end.reason());
    assertNull(record(name), "record deleted");
    assertEquals(1, aws.calls("ChangeResourceRecordSets").stream()
        .filter(c -> c.body().contains("<Action>DELETE</Action>") && c.body().contains(name)).count());
    assertFalse(aws.instance(host).protectedFromScaleIn());
    assertEquals("UNASSIGNED", aws.instance(host).tags().get("Owner"));
    assertEquals(404, f.viaGateway("alice", "/").status());
    assertFalse(f.hasRoute("alice"));
    assertNull(box.agent.credentials(0), "credentials revoked on the agent");
    assertEquals(401, f.heartbeat(creds.token()).statusCode());
    // Recycled in place: the agent restarted the template and cleared Recycle; the slot rejoins the pool.
    Await.until("the template on " + host + " restarted", Duration.ofSeconds(20),
        () -> box.generation.get() > generation && !aws.instance(host).tags().containsKey("Recycle"));
    Await.until(host + " back in the pool", Duration.ofSeconds(30),
        () -> f.stack.redis().sismember(f.stack.keys().pool("demo"), host + "/0"));
  }

  @Test
  void throttledCallsAreRetriedWithBackoffAndTheAllocationCompletes() {
    awaitASpare();
    int tags = aws.calls("CreateTags").size();
    int protects = aws.calls("SetInstanceProtection").size();
    int changes = aws.calls("ChangeResourceRecordSets").size();
    // Three throttles each: the SDK's two attempts fail, Temporal retries the activity after a backoff.
    aws.throttleNext("CreateTags", 3).throttleNext("SetInstanceProtection", 3)
        .throttleNext("ChangeResourceRecordSets", 3);

    HttpResponse<String> r = f.ready("bob");
    String host = AllocationEndToEndTest.field(r.body(), "instanceId");
    assertEquals("bob", aws.instance(host).tags().get("Owner"));
    assertTrue(aws.instance(host).protectedFromScaleIn());
    assertNotNull(record(f.hostname("bob") + "."));
    assertEquals(200, f.asOwner("bob", "/").status());
    // Exactly the throttled calls plus one that went through: no storm.
    assertEquals(4, callsSince("CreateTags", tags, "ResourceId.1", host));
    assertEquals(4, callsSince("SetInstanceProtection", protects, "InstanceIds.member.1", host));
    assertEquals(4, aws.calls("ChangeResourceRecordSets").subList(changes, aws.calls("ChangeResourceRecordSets").size())
        .stream().filter(c -> c.body().contains(f.hostname("bob") + ".")).count());
    Map<String, Integer> attempts = finalAttempts(WorkspaceWorkflow.idFor("bob"));
    assertEquals(2, attempts.get("TagOwner"), attempts.toString());
    assertEquals(2, attempts.get("ProtectHost"), attempts.toString());
    assertEquals(2, attempts.get("UpsertRecord"), attempts.toString());

    release("bob");
  }

  @Test
  void aMissingHostedZoneFailsOnceAndTheSagaUndoesTheTagAndProtection() {
    awaitASpare();
    int changes = aws.calls("ChangeResourceRecordSets").size();
    int lists = aws.calls("ListResourceRecordSets").size();
    aws.failNext("ChangeResourceRecordSets", 1, 404, "NoSuchHostedZone", "No hosted zone found with ID: " + ZONE);

    HttpResponse<String> r = f.allocate("carol");
    assertEquals(503, r.statusCode(), r.body());
    assertTrue(r.body().contains("NoSuchHostedZone"), r.body());
    WorkspaceView end = f.awaitEnd("carol", Duration.ofSeconds(30));
    assertEquals(WorkspaceState.FAILED, end.state());
    String host = end.steps().stream().filter(s -> s.step().equals("tag")).findFirst().orElseThrow().detail();

    // One UPSERT, not retried by the SDK nor by Temporal; the compensating delete only looked.
    String name = f.hostname("carol") + ".";
    assertEquals(1, aws.calls("ChangeResourceRecordSets").subList(changes, aws.calls("ChangeResourceRecordSets").size())
        .stream().filter(c -> c.body().contains(name)).count());
    assertEquals(1, callsSince("ListResourceRecordSets", lists, "name", name));
    Map<String, Integer> attempts = finalAttempts(WorkspaceWorkflow.idFor("carol"));
    assertEquals(1, attempts.get("UpsertRecord"), attempts.toString());
    // Compensated: owner cleared, protection off, no route, no record, no credentials handed out.
    assertEquals("UNASSIGNED", aws.instance(host).tags().get("Owner"));
    assertFalse(aws.instance(host).protectedFromScaleIn());
    assertFalse(f.hasRoute("carol"));
    assertNull(record(f.hostname("carol") + "."));
    assertNull(boxes.get(host).agent.credentials(0));
    assertTrue(f.session("carol").isEmpty());
    // The slot was recycled (not quarantined) and comes back.
    Await.until(host + " back in the pool", Duration.ofSeconds(30),
        () -> f.stack.redis().sismember(f.stack.keys().pool("demo"), host + "/0"));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static void awaitASpare() {
    Await.until("a spare in the pool", Duration.ofSeconds(60), () -> f.spares() >= 1);
  }

  static void release(String user) {
    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token(user), null).statusCode());
    f.awaitEnd(user, Duration.ofSeconds(60));
  }

  /** Calls of {@code action} after the first {@code from} whose parameter {@code key} is {@code value}. */
  static long callsSince(String action, int from, String key, String value) {
    List<FakeAws.Call> all = aws.calls(action);
    return all.subList(from, all.size()).stream().filter(c -> value.equals(c.params().get(key))).count();
  }

  static FakeAws.RecordSet record(String name) {
    return aws.records(ZONE).values().stream()
        .filter(x -> x.name().equals(name) && x.type().equals("A")).findFirst().orElse(null);
  }

  /** Activity type → the attempt its last start was (Temporal records only the final attempt). */
  static Map<String, Integer> finalAttempts(String workflowId) {
    List<HistoryEvent> events = f.stack.temporal().client().fetchHistory(workflowId).getEvents();
    Map<Long, String> types = new HashMap<>();
    Map<String, Integer> attempts = new HashMap<>();
    for (HistoryEvent e : events) {
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        types.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
      } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        var a = e.getActivityTaskStartedEventAttributes();
        attempts.merge(types.get(a.getScheduledEventId()), a.getAttempt(), Math::max);
      }
    }
    return attempts;
  }

  static void setProperty(String key, String value) {
    savedProperties.put(key, System.getProperty(key));
    System.setProperty(key, value);
  }
}
