package io.berth.activities.aws;

import static io.berth.activities.aws.TestAws.GROUP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.activities.fleet.aws.AwsFleet;
import io.berth.testkit.FakeAws;
import io.berth.workflows.activities.FleetActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * AWS failures under Temporal's activity retry, with the cloud retry options of
 * {@code io.berth.workflows.ActivityStubs} (copied: that class is package-private).
 */
public class AwsRetryUnderTemporalTest {
  private static final String QUEUE = "aws-retry-test";

  @WorkflowInterface
  public interface ScaleWorkflow {
    @WorkflowMethod
    void scale(int desired);
  }

  public static class ScaleWorkflowImpl implements ScaleWorkflow {
    /** ActivityStubs.cloud(5): saga steps retry a few times, InvalidInput never. */
    private final FleetActivities fleet = Workflow.newActivityStub(FleetActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(60))
        .setRetryOptions(RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofMillis(200))
            .setBackoffCoefficient(2)
            .setMaximumInterval(Duration.ofSeconds(10))
            .setMaximumAttempts(5)
            .setDoNotRetry("InvalidInput")
            .build())
        .build());

    @Override
    public void scale(int desired) {
      fleet.setDesiredCapacity(desired);
    }
  }

  private final FakeAws fake = FakeAws.start().group(GROUP, 0, 10, 1);
  private TestWorkflowEnvironment env;
  private AwsClients clients;

  @BeforeEach
  void start() {
    AwsSettings settings = TestAws.settings(fake);
    clients = TestAws.clients(settings);
    env = TestWorkflowEnvironment.newInstance();
    Worker worker = env.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(ScaleWorkflowImpl.class);
    worker.registerActivitiesImplementations(new FleetActivitiesImpl(new AwsFleet(settings, clients)));
    env.start();
  }

  @AfterEach
  void stop() {
    env.close();
    clients.close();
    fake.close();
  }

  private void scale(int desired) {
    env.getWorkflowClient().newWorkflowStub(ScaleWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId("scale-" + System.nanoTime()).build())
        .scale(desired);
  }

  @Test
  void aCallThrottledPastTheSdksAttemptsCompletesOnTemporalsRetry() {
    fake.throttleNext("SetDesiredCapacity", 3);

    scale(3);

    assertEquals(3, fake.desired(GROUP));
    assertEquals(4, fake.calls("SetDesiredCapacity").size(), "2 SDK attempts in each of 2 activity attempts");
    assertEquals(2, fake.calls("DescribeAutoScalingGroups").size(), "two activity attempts");
  }

  @Test
  void aValidationErrorFailsAtOnce() {
    fake.failNext("SetDesiredCapacity", 1, 400, "ValidationError", "New SetDesiredCapacity value is invalid");

    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> scale(3));

    ActivityFailure activity = assertInstanceOf(ActivityFailure.class, e.getCause());
    ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, activity.getCause());
    assertEquals("InvalidInput", cause.getType());
    assertEquals(1, fake.calls("SetDesiredCapacity").size());
    assertEquals(1, fake.calls("DescribeAutoScalingGroups").size(), "one activity attempt");
    assertEquals(1, fake.desired(GROUP));
  }
}
