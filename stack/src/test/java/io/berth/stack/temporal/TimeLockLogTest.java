package io.berth.stack.temporal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.testkit.FreePorts;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The embedded test server keeps no lock-event log, so it does not slow down with its age. */
class TimeLockLogTest {
  @WorkflowInterface
  public interface Nap {
    @WorkflowMethod
    String run();
  }

  public static class NapImpl implements Nap {
    @Override
    public String run() {
      Workflow.sleep(Duration.ofMillis(10));
      return "ok";
    }
  }

  @Test
  void theEmbeddedServerRecordsNoLockEvents() throws Exception {
    try (EmbeddedTemporal server = EmbeddedTemporal.start(FreePorts.next())) {
      WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
          WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
      WorkerFactory factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs));
      try {
        factory.newWorker("naps").registerWorkflowImplementationTypes(NapImpl.class);
        factory.start();
        WorkflowClient client = factory.getWorkflowClient();
        for (int i = 0; i < 20; i++) {
          Nap nap = client.newWorkflowStub(Nap.class,
              WorkflowOptions.newBuilder().setTaskQueue("naps").setWorkflowId("nap-" + i).build());
          assertEquals("ok", nap.run());
        }
        // Without TimeLockLog this list holds a LOCK and an UNLOCK entry for every task ever run (~100 here).
        assertEquals(0, lockEvents(server).size());
      } finally {
        factory.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }

  private static List<?> lockEvents(EmbeddedTemporal server) throws ReflectiveOperationException {
    Object services = read(server, EmbeddedTemporal.class, "services");
    Object timer = read(services, services.getClass(), "selfAdvancingTimer");
    return (List<?>) read(timer, timer.getClass(), "lockEvents");
  }

  private static Object read(Object o, Class<?> owner, String name) throws ReflectiveOperationException {
    Field f = owner.getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }
}
