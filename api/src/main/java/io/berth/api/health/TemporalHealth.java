package io.berth.api.health;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.scheduling.TaskExecutors;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.client.WorkflowClient;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** GetSystemInfo answers on a real frontend and on the test server alike, and costs the server nothing. */
@Singleton
public class TemporalHealth extends BlockingHealthIndicator {
  private final WorkflowClient client;

  public TemporalHealth(WorkflowClient client, @Named(TaskExecutors.BLOCKING) ExecutorService executor) {
    super(executor);
    this.client = client;
  }

  @Override
  String name() {
    return "temporal";
  }

  @Override
  HealthResult check() {
    long start = System.nanoTime();
    client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(2, TimeUnit.SECONDS)
        .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
    long micros = (System.nanoTime() - start) / 1000;
    return result(HealthStatus.UP, Map.of("namespace", client.getOptions().getNamespace(), "rpcMicros", micros));
  }
}
