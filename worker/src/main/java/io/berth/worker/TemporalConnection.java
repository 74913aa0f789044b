package io.berth.worker;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import com.uber.m3.tally.ScopeCloseException;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.SearchAttributes;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * A client to a Temporal frontend, with Berth's search attributes registered: a cluster at
 * {@code BERTH_TEMPORAL_TARGET} ({@link #open}), or a server inside this JVM reached over its
 * in-process channel ({@link #inProcess}; the embedded launcher in the stack module owns that server).
 */
public final class TemporalConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TemporalConnection.class);
  /** How often the SDK's metrics scope reports, and so how late a counter reaches Redis at most. */
  static final com.uber.m3.util.Duration COUNTER_REPORT_INTERVAL = com.uber.m3.util.Duration.ofSeconds(2);
  private final String target;
  /** The in-process channel to a server of this JVM; null with a cluster. */
  private final ManagedChannel channel;
  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;
  private final Scope metrics;
  private final RedisClient countersRedis;

  private TemporalConnection(String target, ManagedChannel channel, WorkflowServiceStubs stubs, String namespace,
                             Scope metrics, RedisClient countersRedis) {
    this.target = target;
    this.channel = channel;
    this.stubs = stubs;
    this.metrics = metrics;
    this.countersRedis = countersRedis;
    this.client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
  }

  /** The cluster at {@code config.temporalTarget()}, which must be set. */
  public static TemporalConnection open(WorkerConfig config) {
    if (config.embeddedTemporal()) {
      throw new IllegalArgumentException("BERTH_TEMPORAL_TARGET is not set");
    }
    return connect(config, config.temporalTarget(), null);
  }

  /**
   * A server in this JVM: workflow calls go over {@code channel} (closed with this connection),
   * skipping HTTP/2 and protobuf encoding; {@code target} is its TCP frontend, for the operator
   * call that registers search attributes and for everything outside the JVM.
   */
  public static TemporalConnection inProcess(WorkerConfig config, ManagedChannel channel, String target) {
    return connect(config, target, channel);
  }

  private static TemporalConnection connect(WorkerConfig config, String target, ManagedChannel channel) {
    // The workflows' counters (compensations, reclaims, ...) go through the SDK's metrics scope to
    // Redis, where the API exports them: the worker and the API are separate processes.
    RedisClient countersRedis = RedisClient.create(config.redisUrl());
    Scope metrics = null;
    try {
      metrics = new RootScopeBuilder()
          .reporter(new RedisCounterReporter(countersRedis, new RedisKeys(config.redisPrefix())))
          .reportEvery(COUNTER_REPORT_INTERVAL);
      WorkflowServiceStubsOptions.Builder options = WorkflowServiceStubsOptions.newBuilder().setMetricsScope(metrics);
      WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
          channel != null ? options.setChannel(channel).build() : options.setTarget(target).build());
      TemporalConnection c = new TemporalConnection(target, channel, stubs, config.namespace(), metrics,
          countersRedis);
      c.registerSearchAttributes(config.namespace(), target);
      log.info("Temporal at {} ({}), namespace {}", target, channel != null ? "in this JVM" : "cluster",
          config.namespace());
      return c;
    } catch (RuntimeException e) {
      if (channel != null) {
        channel.shutdownNow();
      }
      closeQuietly(metrics);
      countersRedis.close();
      throw e;
    }
  }

  private static void closeQuietly(Scope metrics) {
    if (metrics == null) {
      return;
    }
    try {
      metrics.close(); // reports what is left
    } catch (ScopeCloseException | RuntimeException e) {
      log.debug("closing the metrics scope: {}", e.toString());
    }
  }

  /** Idempotent: attributes that exist already are fine. Must run before the first workflow starts. */
  static void registerSearchAttributes(String namespace, String target) {
    Map<String, IndexedValueType> wanted = new LinkedHashMap<>();
    SearchAttributes.ALL.forEach(k -> wanted.put(k.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD));
    OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(
        OperatorServiceStubsOptions.newBuilder().setTarget(target).validateAndBuildWithDefaults());
    try {
      operator.blockingStub().addSearchAttributes(AddSearchAttributesRequest.newBuilder()
          .setNamespace(namespace).putAllSearchAttributes(wanted).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
        log.warn("could not register search attributes {} ({}); register them with "
            + "'temporal operator search-attribute create' or workflows will fail to upsert them", wanted.keySet(),
            e.getStatus());
      }
    } finally {
      operator.shutdownNow();
    }
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs stubs() {
    return stubs;
  }

  public String target() {
    return target;
  }

  @Override
  public void close() {
    stubs.shutdownNow();
    if (channel != null) {
      channel.shutdownNow(); // stubs given a channel leave it to its owner
    }
    closeQuietly(metrics);
    countersRedis.close();
  }
}
