package io.berth.stack.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.routing.GatewayClient;
import io.berth.api.access.TokenMinter;
import io.berth.stack.ApiCalls;
import io.berth.stack.AwsBoxes;
import io.berth.testkit.Await;
import io.berth.testkit.FakeAgent;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import redis.clients.jedis.RedisClient;

/**
 * Past one machine (DESIGN.md, ARCHITECTURE.md "Replicas"): two API replicas and two workers, each
 * worker with its own gateway (its private Nginx, dynamic routing, asking its own API), sharing
 * one Temporal server and one Redis, on provider {@code aws} against {@link FakeAws} — the
 * provider whose fleet lives outside the worker, as it does in production. What must hold: one
 * workspace per user whichever replica is asked, every gateway serves it to its owner only, the
 * heartbeat window is one for all APIs, and a worker that dies leaves the other to carry on.
 *
 * <p>Workers run with sticky execution off ({@code BERTH_WORKFLOW_CACHE=0}): the test server
 * never moves a task off a dead worker's sticky queue (FaultStack, docs/FAULTS.md).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasTest {
  static final String GROUP = "berth-replicas";
  static final String ZONE = "Z0BERTHREPLICAS";
  static final String DOMAIN = "ws.example.test";
  static final Duration WINDOW = Duration.ofSeconds(30);

  static PrivateRedis redisServer;
  static RedisClient redis;
  static final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  static final AwsBoxes boxes = new AwsBoxes();
  static FakeAws aws;
  static Path root;
  static JavaProcess temporal;
  static final List<JavaProcess> workers = new ArrayList<>();
  static final List<Integer> gateways = new ArrayList<>();
  static final List<ApplicationContext> apis = new ArrayList<>();
  static WorkflowServiceStubs stubs;
  static WorkflowClient client;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws IOException {
    redisServer = PrivateRedis.start();
    redis = RedisClient.create(redisServer.url());
    root = Files.createTempDirectory("berth-replicas");
    aws = boxes.attach(FakeAws.start()).zone(ZONE, DOMAIN).launchDelay(Duration.ofMillis(200)).group(GROUP, 0, 6, 0);
    int temporalPort = FreePorts.next();
    Map<String, String> common = common(temporalPort);
    temporal = JavaProcess.start("temporal", root, common, "io.berth.stack.temporal.TemporalServerMain",
        String.valueOf(temporalPort));
    temporal.awaitLog("temporal test server listening on", Duration.ofSeconds(60));
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget("127.0.0.1:" + temporalPort).build());
    client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace("default").build());
    for (int i = 1; i <= 2; i++) {
      Map<String, String> env = replica(common, i);
      apis.add(startApi(env));
      workers.add(JavaProcess.start("worker-" + i, root, env, "io.berth.worker.Main"));
    }
    for (JavaProcess w : workers) {
      w.awaitLog("worker started", Duration.ofSeconds(90));
    }
    Await.until("2 spares in the pool", Duration.ofSeconds(90), () -> redis.scard(keys.pool("demo")) >= 2);
  }

  /** What every replica shares: Redis, Temporal, the secrets, the cloud, the settings. */
  static Map<String, String> common(int temporalPort) {
    Map<String, String> env = new HashMap<>();
    env.put("BERTH_REDIS_URL", redisServer.url());
    env.put("BERTH_TEMPORAL_TARGET", "127.0.0.1:" + temporalPort);
    env.put("BERTH_JWT_SECRET", FaultStack.SECRET);
    env.put("BERTH_GATEWAY_SECRET", "replicas-gateway-secret-of-at-least-32-bytes");
    // Every gateway and every API share it (as they share the cookie key).
    env.put("BERTH_GATEWAY_TOKEN", "replicas-gateway-token-0123456789abcdef");
    env.put("BERTH_PROVIDER", "aws");
    env.put("BERTH_AWS_ENDPOINT", aws.endpoint().toString());
    env.put("BERTH_AWS_ASG", GROUP);
    env.put("BERTH_AWS_HOSTED_ZONE_ID", ZONE);
    env.put("BERTH_DNS_MODE", "record");
    env.put("BERTH_DOMAIN", DOMAIN);
    env.put("BERTH_AWS_TEMPLATE_PORT", String.valueOf(boxes.templatePort));
    env.put("BERTH_AWS_AGENT_PORT", String.valueOf(boxes.agentPort));
    env.put("BERTH_MAX_HOSTS", "6");
    env.put("BERTH_SPARES", "2");
    env.put("BERTH_RECONCILE_INTERVAL", "PT1S");
    env.put("BERTH_SCALE_OUT_COOLDOWN", "PT2S");
    env.put("BERTH_ALLOCATE_WAIT", "PT50S");
    env.put("BERTH_ALLOCATE_RATE", "100000/min");
    env.put("BERTH_IDLE_TIMEOUT", "PT10M");
    env.put("BERTH_HEARTBEAT_WINDOW", WINDOW.toString());
    env.put("BERTH_WORKFLOW_CACHE", "0");
    // The SDK's default chain, for the workers' processes; no instance metadata lookups off this machine.
    env.put("AWS_ACCESS_KEY_ID", "AKIDBERTHREPLICAS");
    env.put("AWS_SECRET_ACCESS_KEY", "berth-replicas-not-a-secret");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    return env;
  }

  /** Replica {@code i}: its own state directory, API port and gateway, which asks its own API. */
  static Map<String, String> replica(Map<String, String> common, int i) throws IOException {
    Map<String, String> env = new HashMap<>(common);
    int apiPort = FreePorts.next();
    int gatewayPort = FreePorts.next();
    gateways.add(gatewayPort);
    env.put("BERTH_STATE_DIR", Files.createDirectories(root.resolve("state-" + i)).toString());
    env.put("BERTH_API_PORT", String.valueOf(apiPort));
    env.put("BERTH_API_URL", "http://127.0.0.1:" + apiPort);
    env.put("BERTH_GATEWAY_LISTEN", "127.0.0.1:" + gatewayPort);
    env.put("BERTH_PUBLIC_URL", "http://{label}." + DOMAIN + ":" + gatewayPort + "/");
    return env;
  }

  static ApplicationContext startApi(Map<String, String> env) {
    ApplicationContext api = ApplicationContext.builder().properties(new HashMap<>(env)).deduceEnvironment(false).start();
    api.getBean(EmbeddedServer.class).start();
    return api;
  }

  @AfterAll
  static void stop() {
    apis.forEach(ApplicationContext::close);
    workers.forEach(w -> w.stop(Duration.ofSeconds(20)));
    if (root != null) {
      // A killed worker's Nginx outlives it (as it would on its machine).
      FaultStack.killLeftovers(root);
    }
    if (temporal != null) {
      temporal.stop(Duration.ofSeconds(10));
    }
    if (stubs != null) {
      stubs.shutdownNow();
    }
    boxes.close();
    if (aws != null) {
      aws.close();
    }
    if (redis != null) {
      redis.close();
    }
    if (redisServer != null) {
      redisServer.close();
    }
    if (root != null) {
      FaultStack.keepLogsAndDelete(root);
    }
  }

  @Test
  @Order(1)
  void concurrentAllocatesThroughBothApisGiveOneWorkspace() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        int api = i % 2;
        Callable<HttpResponse<String>> allocate = () -> call(api, "POST", "/api/workspaces", token("alice"), "{}");
        answers.add(pool.submit(allocate));
      }
      Set<String> workspaceIds = new HashSet<>();
      for (Future<HttpResponse<String>> a : answers) {
        HttpResponse<String> r = a.get();
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"READY\""), r.body());
        workspaceIds.add(field(r.body(), "workspaceId"));
      }
      assertEquals(1, workspaceIds.size(), "one workspace: " + workspaceIds);
    } finally {
      pool.shutdownNow();
    }
    List<FakeAws.Instance> owned = aws.members(GROUP).stream()
        .filter(i -> "alice".equals(i.tags().get("Owner"))).toList();
    assertEquals(1, owned.size(), "one instance tagged for alice: " + owned);
    assertTrue(owned.get(0).protectedFromScaleIn());
    // Both APIs read the same workspace.
    assertEquals(field(call(0, "GET", "/api/workspaces/me", token("alice"), null).body(), "instanceId"),
        field(call(1, "GET", "/api/workspaces/me", token("alice"), null).body(), "instanceId"));
  }

  @Test
  @Order(2)
  void eitherGatewayServesTheWorkspaceToItsOwnerOnly() {
    assertEquals(200, call(1, "POST", "/api/workspaces", token("mallory"), "{}").statusCode());
    String instance = field(call(1, "GET", "/api/workspaces/me", token("alice"), null).body(), "instanceId");
    for (int g = 0; g < 2; g++) {
      assertEquals(302, gatewayGet(g, "alice", "/", null).status(), "gateway " + g + " without a cookie");
      // A launch link from one API opens through either gateway: the cookie key is shared.
      String cookie = launchCookie(1 - g, "alice", g);
      GatewayClient.Answer page = gatewayGet(g, "alice", "/", cookie);
      assertEquals(200, page.status(), "gateway " + g + ": " + page.body());
      assertTrue(page.body().contains("Workspace of alice on " + boxes.get(instance).address), page.body());
      // Another user's cookie gets nowhere on alice's host: back to the dashboard's sign-in.
      assertEquals(302, gatewayGet(g, "alice", "/", launchCookie(g, "mallory", g)).status());
    }
  }

  @Test
  @Order(3)
  void heartbeatsThroughBothApisShareOneWindow() {
    FakeAgent.Credentials creds = credentials("alice");
    // The requests of the test before count as activity too: start on a fresh window.
    Await.until("alice's window to close", WINDOW.plusSeconds(10),
        () -> !redis.exists(keys.heartbeatWindow("alice")));
    int before = heartbeatSignals("alice");
    long started = System.currentTimeMillis();
    for (int i = 0; i < 6; i++) {
      assertEquals(204, call(i % 2, "POST", "/api/heartbeat", creds.token(), null).statusCode());
    }
    long elapsed = System.currentTimeMillis() - started;
    // The window is a Redis key: the six beats open one window between them, not one per API.
    long windows = 1 + elapsed / WINDOW.toMillis();
    Await.until("a heartbeat signal in alice's history", Duration.ofSeconds(20),
        () -> heartbeatSignals("alice") > before);
    int signals = heartbeatSignals("alice") - before;
    assertTrue(signals >= 1 && signals <= windows, signals + " signals for " + windows + " window(s)");
    long lastSeen = Long.parseLong(redis.hget(keys.workspace("alice"), "lastSeen"));
    assertTrue(lastSeen >= started, "Redis holds the last beat");
  }

  @Test
  @Order(4)
  void aKilledWorkerLeavesTheOtherToAllocateAndTearDown() {
    workers.get(0).kill();
    // Through the dead worker's API and gateway: Temporal hands the work to the live worker.
    HttpResponse<String> r = call(0, "POST", "/api/workspaces", token("bob"), "{}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("\"READY\""), r.body());
    assertEquals(200, gatewayGet(0, "bob", "/", launchCookie(0, "bob", 0)).status());

    String instance = field(call(1, "GET", "/api/workspaces/me", token("alice"), null).body(), "instanceId");
    FakeAgent.Credentials creds = credentials("alice");
    assertEquals(202, call(1, "DELETE", "/api/workspaces/me", token("alice"), null).statusCode());
    WorkspaceView end = awaitEnd("alice", Duration.ofSeconds(60));
    assertEquals("released by user", end.reason());
    // Gone everywhere: both gateways, the group, the zone, Redis; the token is dead on both APIs.
    for (int g = 0; g < 2; g++) {
      assertEquals(404, gatewayGet(g, "alice", "/", null).status(), "gateway " + g);
    }
    assertEquals("UNASSIGNED", aws.instance(instance).tags().get("Owner"));
    assertFalse(aws.instance(instance).protectedFromScaleIn());
    assertTrue(aws.records(ZONE).values().stream().noneMatch(x -> x.name().startsWith(Labels.labelFor("alice"))));
    assertTrue(redis.hgetAll(keys.workspace("alice")).isEmpty());
    assertNull(boxes.get(instance).agent.credentials(0));
    for (int api = 0; api < 2; api++) {
      assertEquals(401, call(api, "POST", "/api/heartbeat", creds.token(), null).statusCode(), "api " + api);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static String token(String user) {
    return TokenMinter.mint(FaultStack.SECRET, user, false, Duration.ofMinutes(30));
  }

  static String apiUrl(int api) {
    return "http://127.0.0.1:" + apis.get(api).getBean(EmbeddedServer.class).getPort();
  }

  static HttpResponse<String> call(int api, String method, String path, String bearer, String body) {
    return new ApiCalls(http, () -> apiUrl(api), Duration.ofSeconds(90)).call(method, path, bearer, body);
  }

  static String host(String user) {
    return Labels.labelFor(user) + "." + DOMAIN;
  }

  static GatewayClient.Answer gatewayGet(int gateway, String user, String path, String cookie) {
    return toGateway(gateway, host(user), path, cookie);
  }

  static GatewayClient.Answer toGateway(int gateway, String host, String path, String cookie) {
    try {
      return GatewayClient.get("127.0.0.1", gateways.get(gateway), host, path, Duration.ofSeconds(10),
          cookie == null ? Map.of() : Map.of("Cookie", cookie));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The cookie that a launch link from {@code api} sets when opened through {@code gateway}. */
  static String launchCookie(int api, String user, int gateway) {
    HttpResponse<String> answer = call(api, "POST", "/api/workspaces/me/launch", token(user), null);
    return FaultStack.launchCookie(user, answer, (host, pathAndQuery) -> {
      assertEquals(host(user), host);
      return toGateway(gateway, host, pathAndQuery, null);
    });
  }

  static FakeAgent.Credentials credentials(String user) {
    String instance = redis.hget(keys.workspace(user), "hostId");
    return boxes.get(instance).agent.credentials(0);
  }

  static int heartbeatSignals(String user) {
    List<HistoryEvent> events = client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
    return (int) events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        .map(e -> e.getWorkflowExecutionSignaledEventAttributes().getSignalName())
        .filter(n -> n.equals("heartbeat") || n.equals("beat")).count();
  }

  static WorkspaceView awaitEnd(String user, Duration bound) {
    try {
      return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user))
          .getResult(bound.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS, WorkspaceView.class);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(user + "'s workflow did not end within " + bound, e);
    }
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    assertTrue(m.find(), name + " in " + json);
    return m.group(1);
  }
}
