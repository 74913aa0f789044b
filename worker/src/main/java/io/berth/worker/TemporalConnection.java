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

/** A client to the configured Temporal (embedded or a cluster), with Berth's search attributes registered. */
public final class TemporalConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TemporalConnection.class);
  /** How often the SDK's metrics scope reports, and so how late a counter reaches Redis at most. */
  static final com.uber.m3.util.Duration COUNTER_REPORT_INTERVAL = com.uber.m3.util.Duration.ofSeconds(2);
  private final EmbeddedTemporal embedded;
  /** The in-process channel to the embedded server; null with a cluster. */
  private final ManagedChannel channel;
  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;
  private final Scope metrics;
  private final RedisClient countersRedis;

  private TemporalConnection(EmbeddedTemporal embedded, ManagedChannel channel, WorkflowServiceStubs stubs,
                             String namespace, Scope metrics, RedisClient countersRedis) {
    this.embedded = embedded;
    this.channel = channel;
    this.stubs = stubs;
    this.metrics = metrics;
    this.countersRedis = countersRedis;
    this.client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
  }

  public static TemporalConnection open(WorkerConfig config) {
    // The workflows' counters (compensations, reclaims, ...) go through the SDK's metrics scope to
    // Redis, where the API exports them: the worker and the API are separate processes.
    RedisClient countersRedis = RedisClient.create(config.redisUrl());
    Scope metrics = null;
    EmbeddedTemporal embedded = null;
    ManagedChannel channel = null;
    try {
      metrics = new RootScopeBuilder()
          .reporter(new RedisCounterReporter(countersRedis, new RedisKeys(config.redisPrefix())))
          .reportEvery(COUNTER_REPORT_INTERVAL);
      embedded = config.embeddedTemporal() ? EmbeddedTemporal.start(config.embeddedTemporalPort()) : null;
      String target = embedded != null ? embedded.target() : config.temporalTarget();
      WorkflowServiceStubsOptions.Builder options = WorkflowServiceStubsOptions.newBuilder().setMetricsScope(metrics);
      channel = embedded != null ? embedded.channel() : null;
      WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
          channel != null ? options.setChannel(channel).build() : options.setTarget(target).build());
      TemporalConnection c = new TemporalConnection(embedded, channel, stubs, config.namespace(), metrics,
          countersRedis);
      c.registerSearchAttributes(config.namespace(), target);
      log.info("Temporal at {} ({}), namespace {}", target, embedded != null ? "embedded test server" : "cluster",
          config.namespace());
      return c;
    } catch (RuntimeException e) {
      if (channel != null) {
        channel.shutdownNow();
      }
      if (embedded != null) {
        embedded.close();
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
    return embedded != null ? embedded.target() : stubs.getOptions().getTarget();
  }

  @Override
  public void close() {
    stubs.shutdownNow();
    if (channel != null) {
      channel.shutdownNow(); // stubs given a channel leave it to its owner
    }
    closeQuietly(metrics);
    countersRedis.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}
