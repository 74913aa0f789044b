package io.berth.stack.temporal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.FreePorts;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The embedded server's clock starts where it is told and moves only by real time or by a step. */
class SteppedClockTest {
  private static final long START = Instant.parse("2026-12-07T05:30:00Z").toEpochMilli();

  @WorkflowInterface
  public interface Nap {
    @WorkflowMethod
    long run();
  }

  public static class TwoHourNap implements Nap {
    @Override
    public long run() {
      Workflow.sleep(Duration.ofHours(2));
      return Workflow.currentTimeMillis();
    }
  }

  @Test
  void aTimerFiresOnlyOnceTheClockIsSteppedPastIt() throws Exception {
    try (EmbeddedTemporal server = EmbeddedTemporal.start(FreePorts.next(), START);
         SteppedClock clock = new SteppedClock(server)) {
      long now = clock.nowMillis();
      assertTrue(now >= START && now < START + 60_000, "starts at the given instant: " + Instant.ofEpochMilli(now));
      WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
          WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
      WorkerFactory factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs));
      try {
        factory.newWorker("naps").registerWorkflowImplementationTypes(TwoHourNap.class);
        factory.start();
        Nap nap = factory.getWorkflowClient().newWorkflowStub(Nap.class,
            WorkflowOptions.newBuilder().setTaskQueue("naps").setWorkflowId("nap").build());
        WorkflowClient.start(nap::run);
        WorkflowStub run = WorkflowStub.fromTyped(nap);
        clock.advance(Duration.ofHours(1), Duration.ofSeconds(30));
        assertFalse(finished(run), "an hour in, the two-hour timer has not fired");
        clock.advance(Duration.ofHours(1).plusSeconds(1), Duration.ofSeconds(30));
        long woke = run.getResult(30, TimeUnit.SECONDS, Long.class);
        assertTrue(woke >= START + Duration.ofHours(2).toMillis() && woke < START + Duration.ofHours(2).toMillis() + 60_000,
            "woke at " + Instant.ofEpochMilli(woke));
        long after = clock.nowMillis();
        assertTrue(after >= woke, "the clock stays where the step left it: " + Instant.ofEpochMilli(after));
      } finally {
        factory.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }

  private static boolean finished(WorkflowStub run) {
    try {
      run.getResult(300, TimeUnit.MILLISECONDS, Long.class);
      return true;
    } catch (TimeoutException e) {
      return false;
    }
  }
}
