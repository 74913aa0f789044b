package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.CapacityRequest;
import io.berth.workflows.model.CapacityStatus;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The worker's coalescing of controller pokes, against Temporal's test server. */
class CapacityPokesTest {
  private static final Pattern MORE = Pattern.compile("\\(\\+(\\d+) more\\)$");
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private CapacityPokes pokes;

  /** A controller that only receives: the pokes are read back from its history. */
  public static class ListeningController implements CapacityWorkflow {
    @Override
    public void run(CapacityParams params) {
      Workflow.await(() -> false);
    }

    @Override
    public void poke(String reason) {}

    @Override
    public void needCapacity(CapacityRequest request) {}

    @Override
    public void cancelNeed(String workspaceWorkflowId) {}

    @Override
    public void reconfigure(CapacityParams params) {}

    @Override
    public CapacityStatus status() {
      return null;
    }
  }

  @BeforeEach
  void start() {
    env = TestWorkflowEnvironment.newInstance();
    env.newWorker(TaskQueues.BERTH).registerWorkflowImplementationTypes(ListeningController.class);
    env.start();
    client = env.getWorkflowClient();
    pokes = new CapacityPokes(client, Duration.ofMillis(250));
  }

  @AfterEach
  void stop() {
    pokes.close();
    env.close();
  }

  private void startController() {
    startController(CapacityWorkflow.ID);
  }

  private void startController(String id) {
    WorkflowClient.start(client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(id).setTaskQueue(TaskQueues.BERTH).build())::run, (CapacityParams) null);
  }

  private List<String> received() {
    return received(CapacityWorkflow.ID);
  }

  private List<String> received(String id) {
    return client.fetchHistory(id).getEvents().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        .map(e -> e.getWorkflowExecutionSignaledEventAttributes())
        .filter(a -> a.getSignalName().equals("poke"))
        .map(a -> DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(0, Optional.of(a.getInput()), String.class,
            String.class))
        .toList();
  }

  /** How many pokes a signal stands for: 1, or 1 + N for "reason (+N more)". */
  private static int count(String reason) {
    Matcher m = MORE.matcher(reason);
    return m.find() ? 1 + Integer.parseInt(m.group(1)) : 1;
  }

  @Test
  void aBurstOfPokesArrivesAsFewSignalsAndNoneIsLost() throws Exception {
    startController();
    ExecutorService callers = Executors.newFixedThreadPool(10);
    long t0 = System.nanoTime();
    for (int i = 0; i < 50; i++) {
      callers.submit(() -> pokes.pokeCapacity("allocated"));
    }
    callers.shutdown();
    assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));
    long burstMillis = (System.nanoTime() - t0) / 1_000_000;

    List<String> signals = Await.value("all 50 pokes delivered", Duration.ofSeconds(20), () -> {
      List<String> r = received();
      return r.stream().mapToInt(CapacityPokesTest::count).sum() == 50 ? r : null;
    });
    // One at once, then at most one per window while the burst lasted, then the trailing one.
    assertTrue(signals.size() <= 2 + burstMillis / 250, signals.size() + " signals for a " + burstMillis
        + " ms burst: " + signals);
    assertTrue(signals.stream().allMatch(r -> r.startsWith("allocated")), signals.toString());
  }

  @Test
  void aPokeWithoutAControllerIsDroppedQuietlyAndTheNextOneArrives() {
    pokes.pokeCapacity("nobody listens"); // sent before or after the controller starts: never an error
    startController();
    long t0 = System.nanoTime();
    pokes.pokeCapacity("released");
    Await.until("the next poke", Duration.ofSeconds(10), () -> received().stream()
        .anyMatch(r -> r.startsWith("released") || r.equals("nobody listens (+1 more)")));
    System.out.printf("next poke delivered after %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000, received());
  }

  /** Each template's controller gets its own pokes, coalesced on their own. */
  @Test
  void pokesAreCoalescedPerController() throws Exception {
    String shell = CapacityWorkflow.idFor("shell", "demo");
    startController();
    startController(shell);
    ExecutorService callers = Executors.newFixedThreadPool(10);
    for (int i = 0; i < 30; i++) {
      boolean toShell = i % 3 == 0;
      callers.submit(() -> {
        if (toShell) {
          pokes.pokeCapacityOf(shell, "shell allocated");
        } else {
          pokes.pokeCapacity("demo allocated");
        }
      });
    }
    callers.shutdown();
    assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));
    List<String> toDemo = Await.value("20 pokes to the default template's controller", Duration.ofSeconds(20), () -> {
      List<String> r = received();
      return r.stream().mapToInt(CapacityPokesTest::count).sum() == 20 ? r : null;
    });
    List<String> toShell = Await.value("10 pokes to the shell's controller", Duration.ofSeconds(20), () -> {
      List<String> r = received(shell);
      return r.stream().mapToInt(CapacityPokesTest::count).sum() == 10 ? r : null;
    });
    assertTrue(toDemo.stream().allMatch(r -> r.startsWith("demo allocated")), toDemo.toString());
    assertTrue(toShell.stream().allMatch(r -> r.startsWith("shell allocated")), toShell.toString());
  }
}
