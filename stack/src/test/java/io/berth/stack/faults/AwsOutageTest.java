package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.dns.Route53Dns;
import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.activities.fleet.aws.AwsFleet;
import io.berth.stack.temporal.EmbeddedTemporal;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import io.berth.workflows.CloudStepWorkflow;
import io.berth.workflows.model.DnsRecord;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Scenario 4: AWS throttles and answers 5xx for a while. Under a real Temporal worker (test
 * server in real time, the workflows' own activity options), a saga step rides out a short outage
 * with the SDK's quick retry and Temporal's backoff; an outage longer than a saga step's patience
 * fails the step after its last attempt (the saga then compensates); a teardown step outlasts
 * the same outage and converges; a validation error is never retried. The AWS path end to end
 * (provider aws, instances, agent) is the AWS end-to-end test's; here only the retry behaviour.
 */
class AwsOutageTest {
  private static final String GROUP = "berth-workspaces";
  private static final String ZONE = "Z0BERTHFAULTS";
  private static final String DOMAIN = "ws.example.com";
  private static final String QUEUE = "aws-outage";
  private static final AtomicInteger runs = new AtomicInteger();
  private FakeAws fake;
  private AwsClients clients;
  private EmbeddedTemporal temporal;
  private WorkflowServiceStubs stubs;
  private WorkerFactory workers;
  private WorkflowClient client;

  @BeforeEach
  void start() {
    fake = FakeAws.start().group(GROUP, 0, 10, 1).zone(ZONE, DOMAIN);
    AwsSettings settings = AwsSettings.of("us-east-1", GROUP, ZONE, DOMAIN, "demo").withEndpoint(fake.endpoint());
    clients = AwsClients.create(settings,
        StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDBERTHFAULTS", "not-a-secret")));
    temporal = EmbeddedTemporal.start(FreePorts.next());
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(temporal.target()).build());
    client = WorkflowClient.newInstance(stubs);
    workers = WorkerFactory.newInstance(client);
    var worker = workers.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(CloudStepWorkflow.Impl.class);
    worker.registerActivitiesImplementations(new FleetActivitiesImpl(new AwsFleet(settings, clients)),
        new Route53Dns(settings, clients));
    workers.start();
  }

  @AfterEach
  void stop() {
    workers.shutdownNow();
    workers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    stubs.shutdownNow();
    temporal.close();
    clients.close();
    fake.close();
  }

  /** Runs one step; returns its history. */
  private List<HistoryEvent> run(String step, int desired, boolean converge) {
    String id = "cloud-step-" + runs.incrementAndGet();
    CloudStepWorkflow wf = client.newWorkflowStub(CloudStepWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(id).build());
    try {
      wf.run(step, desired, new DnsRecord("req-1", "alice-0a1b2c3d." + DOMAIN, "10.0.0.7"), converge);
    } finally {
      history.set(client.fetchHistory(id).getHistory().getEventsList());
    }
    return history.get();
  }

  private final java.util.concurrent.atomic.AtomicReference<List<HistoryEvent>> history =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** The attempt that last started the (only) activity. */
  private static int lastAttempt(List<HistoryEvent> events) {
    return events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        .mapToInt(e -> e.getActivityTaskStartedEventAttributes().getAttempt()).max().orElse(0);
  }

  @Test
  void aSagaStepRidesOutThrottlingAnd5xx() {
    fake.throttleNext("SetDesiredCapacity", 3).failNext("SetDesiredCapacity", 2, 503, "ServiceUnavailable", "busy");

    List<HistoryEvent> h = run("scale", 3, false);

    assertEquals(3, fake.desired(GROUP));
    assertEquals(6, fake.calls("SetDesiredCapacity").size(), "5 failures, then the call that worked");
    assertEquals(3, lastAttempt(h), "two SDK tries in each of three activity attempts");
  }

  @Test
  void anOutageLongerThanASagaStepsAttemptsFailsTheStepSoTheSagaCompensates() {
    fake.failNext("SetDesiredCapacity", 20, 500, "InternalError", "We encountered an internal error");

    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> run("scale", 3, false));

    ActivityFailure step = assertInstanceOf(ActivityFailure.class, e.getCause());
    assertEquals("AwsRetryable", assertInstanceOf(ApplicationFailure.class, step.getCause()).getType());
    assertEquals(5, lastAttempt(history.get()), "the saga step's five attempts, no more");
    assertEquals(10, fake.calls("SetDesiredCapacity").size());
    assertEquals(1, fake.desired(GROUP), "nothing changed");
  }

  @Test
  void aTeardownStepOutlastsTheSameOutageAndConverges() {
    fake.failNext("SetDesiredCapacity", 11, 503, "ServiceUnavailable", "busy");

    List<HistoryEvent> h = run("scale", 0, true);

    assertEquals(0, fake.desired(GROUP));
    assertEquals(6, lastAttempt(h), "past the five attempts a saga step gets");
  }

  @Test
  void route53ThrottlingIsRetriedAndTheRecordLands() {
    fake.throttleNext("ChangeResourceRecordSets", 3);

    List<HistoryEvent> h = run("record", 0, false);

    assertEquals(1, fake.records(ZONE).values().stream().filter(r -> r.name().equals("alice-0a1b2c3d." + DOMAIN + ".")
        && r.values().equals(List.of("10.0.0.7"))).count(), fake.records(ZONE).toString());
    assertEquals(2, lastAttempt(h));
  }

  @Test
  void aValidationErrorIsNotRetried() {
    fake.failNext("SetDesiredCapacity", 1, 400, "ValidationError", "New SetDesiredCapacity value 3 is above max");

    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> run("scale", 3, true));

    ActivityFailure step = assertInstanceOf(ActivityFailure.class, e.getCause());
    assertEquals("InvalidInput", assertInstanceOf(ApplicationFailure.class, step.getCause()).getType());
    assertEquals(1, lastAttempt(history.get()), "even a teardown step does not retry bad input");
    assertEquals(1, fake.calls("SetDesiredCapacity").size());
  }
}
