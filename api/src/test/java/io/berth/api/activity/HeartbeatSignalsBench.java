package io.berth.api.activity;

import io.berth.api.metrics.HeartbeatMeters;
import io.berth.api.TestStack;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: {@code java -cp <test classpath> io.berth.api.activity.HeartbeatSignalsBench [workspaces] [rate/s] [seconds]}.
 * Offers {@code rate} beat signals per second, round robin over {@code workspaces} running fake
 * workspace workflows, to {@link HeartbeatSignals} with its production sizing, against Temporal's
 * test server in this JVM (real time), and reports sent / expired / dropped and the signal RPC's
 * latency. Everything shares the machine's cores, so the figure is a floor.
 */
public final class HeartbeatSignalsBench {
  public static void main(String[] args) throws Exception {
    int workspaces = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 333;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    TestStack stack = TestStack.get();
    WorkspaceSettings settings = new WorkspaceSettings(Duration.ofMinutes(30), Duration.ofHours(12),
        Duration.ofMinutes(5), Duration.ofSeconds(10), "demo", List.of("demo"), "localhost", "", Duration.ZERO,
        "off", "off", "off", null, null);
    WorkspaceWorkflows workflows = new WorkspaceWorkflows(stack.client, settings);
    List<String> users = new ArrayList<>();
    for (int i = 0; i < workspaces; i++) {
      String user = "hb-" + i;
      WorkspaceWorkflow stub = stack.client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(WorkspaceWorkflow.idFor(user)).setTaskQueue(TaskQueues.BERTH).build());
      WorkflowClient.start(stub::run, workflows.params(user, "demo"));
      users.add(user);
    }
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    HeartbeatSignals signals = new HeartbeatSignals((user, at) -> {
      long t0 = System.nanoTime();
      workflows.beat(user, at);
      latencies.add(System.nanoTime() - t0);
    }, new HeartbeatMeters(registry), settings.effectiveHeartbeatWindow(), System::currentTimeMillis,
        HeartbeatSignals.SENDERS, HeartbeatSignals.QUEUE);

    long intervalNanos = 1_000_000_000L / rate;
    long start = System.nanoTime();
    long offered = 0;
    while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
      long due = start + offered * intervalNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      signals.send(users.get((int) (offered % users.size())), System.currentTimeMillis());
      offered++;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (count(registry, "sent") + count(registry, "failed") + count(registry, "expired") < offered - signals.dropped()
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    double took = (System.nanoTime() - start) / 1e9;
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.printf("offered %d at %d/s over %d workspaces (%d senders); sent %.0f (%.0f/s over %.1f s), "
            + "failed %.0f, expired %.0f, dropped %d; signal RPC p50 %.1f ms, p99 %.1f ms%n",
        offered, rate, workspaces, HeartbeatSignals.SENDERS, count(registry, "sent"), count(registry, "sent") / took,
        took, count(registry, "failed"), count(registry, "expired"), signals.dropped(), pct(sorted, 50), pct(sorted, 99));
    System.exit(0);
  }

  private static double count(SimpleMeterRegistry registry, String result) {
    return registry.get("berth.heartbeat.signals").tag("result", result).counter().count();
  }

  private static double pct(List<Long> sorted, int p) {
    return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }
}
