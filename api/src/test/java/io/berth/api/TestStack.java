package io.berth.api;

import io.berth.api.access.JwtSecret;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.WorkspaceParams;
import io.temporal.api.common.v1.Payloads;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testserver.TestServer;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import redis.clients.jedis.RedisClient;

/**
 * One per test JVM: a private Redis, a port-bound Temporal test server (real time) and a worker
 * running the fake workflows. The API under test reaches both through its properties, as it
 * would in production.
 */
public final class TestStack {
  private static TestStack instance;

  final PrivateRedis redisServer;
  final RedisClient redis;
  final int temporalPort;
  public final WorkflowClient client;
  final Path stateDir;
  private final TestServer.PortBoundTestServer temporal;
  private final WorkflowServiceStubs stubs;
  private final WorkerFactory workers;

  private TestStack() {
    redisServer = PrivateRedis.start();
    redis = RedisClient.create(redisServer.url());
    temporalPort = FreePorts.next();
    temporal = TestServer.createPortBoundServer(temporalPort);
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget("127.0.0.1:" + temporalPort).build());
    client = WorkflowClient.newInstance(stubs);
    workers = WorkerFactory.newInstance(client);
    // Above FakeWorkspaceWorkflow.STALL: a stalled task stands for an overloaded worker, not a deadlock.
    workers.newWorker(TaskQueues.BERTH, WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build())
        .registerWorkflowImplementationTypes(FakeWorkspaceWorkflow.class, FakeCapacityWorkflow.class);
    workers.start();
    WorkflowClient.start(client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(CapacityWorkflow.ID).setTaskQueue(TaskQueues.BERTH).build())::run, (CapacityParams) null);
    try {
      stateDir = Files.createTempDirectory("berth-api-state");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(this::close));
  }

  public static synchronized TestStack get() {
    if (instance == null) {
      instance = new TestStack();
    }
    return instance;
  }

  /** The API's properties: everything local and fast, the JWT key from the state dir as TokenCli makes it. */
  Map<String, String> apiProperties() {
    Map<String, String> p = new HashMap<>();
    p.put("berth.redis.url", redisServer.url());
    p.put("berth.redis.prefix", "berth:");
    p.put("berth.temporal.target", "127.0.0.1:" + temporalPort);
    p.put("berth.temporal.namespace", "default");
    p.put("berth.state-dir", stateDir.toString());
    p.put("berth.gateway.token", RawHttp.GATEWAY_TOKEN);
    p.put("berth.jwt.secret", "");
    p.put("berth.workspace.allocate-wait", "PT2S"); // bounds the teardown wait too: room for a loaded machine
    p.put("berth.workspace.heartbeat-window", "PT3S");
    p.put("berth.workspace.allocate-rate", "30/min");
    p.put("berth.workspace.templates", "demo,code-server");
    return p;
  }

  String secret() {
    return JwtSecret.resolve(Map.of(JwtSecret.ENV_STATE_DIR, stateDir.toString()));
  }

  WorkspaceWorkflow workspace(String user) {
    return client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user));
  }

  /** The input the latest run of {@code user}'s workspace was started with, read from its history. */
  WorkspaceParams startedWith(String user) {
    Payloads input = client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEvents(0)
        .getWorkflowExecutionStartedEventAttributes().getInput();
    return DefaultDataConverter.newDefaultInstance().fromPayloads(0, Optional.of(input), WorkspaceParams.class,
        WorkspaceParams.class);
  }

  /** A fake controller under {@code controllerId} (another template's pool), unless one runs already. */
  void controller(String controllerId) {
    try {
      WorkflowClient.start(client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(controllerId).setTaskQueue(TaskQueues.BERTH).build())::run, (CapacityParams) null);
    } catch (WorkflowExecutionAlreadyStarted e) {
      // started by an earlier test class of this JVM
    }
  }

  long heartbeatSignals(String user) {
    return workspace(user).view().steps().stream().filter(s -> s.step().equals("heartbeat")).count();
  }

  private void close() {
    workers.shutdownNow();
    stubs.shutdownNow();
    temporal.close();
    redis.close();
    redisServer.close();
  }

  static Duration seconds(long s) {
    return Duration.ofSeconds(s);
  }

  /**
   * What the worker's session activity writes for {@code user}'s workspace {@code workspaceId}: the
   * session and the heartbeat token's hash, never the token, which is returned.
   */
  String heartbeatSession(String user, String workspaceId) {
    String token = java.util.UUID.randomUUID() + "-" + java.util.UUID.randomUUID();
    io.berth.workflows.RedisKeys keys = new io.berth.workflows.RedisKeys("berth:");
    redis.hset(keys.workspace(user), Map.of("user", user, "workspaceId", workspaceId, "state", "READY"));
    redis.sadd(keys.users(), user);
    redis.hset(keys.heartbeatToken(io.berth.workflows.Labels.sha256Hex(token)),
        Map.of("user", user, "workspaceId", workspaceId));
    return token;
  }
}
