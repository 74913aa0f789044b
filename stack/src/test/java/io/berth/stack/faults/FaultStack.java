package io.berth.stack.faults;

import io.berth.api.access.TokenMinter;
import io.berth.stack.ApiCalls;
import io.berth.activities.fleet.local.DemoTemplate;
import io.berth.activities.fleet.local.LocalFleet;
import io.berth.activities.fleet.local.LocalFleetConfig;
import io.berth.activities.routing.GatewayClient;
import io.berth.activities.store.PortAllocator;
import io.berth.stack.Invariants;
import io.berth.testkit.Await;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.HistorySteps;
import io.berth.workflows.CapacityWorkflow;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import redis.clients.jedis.RedisClient;

/**
 * The stack in pieces, each one a process a test can kill: a private redis-server, Temporal's
 * test server ({@code io.berth.stack.temporal.TemporalServerMain}), the worker ({@code io.berth.worker.Main},
 * which runs the private Nginx and the local fleet's workspace processes) and, in this JVM, the
 * API and a Temporal client. Every address is loopback; the state lives in a temp directory.
 *
 * <p>The worker runs with {@code BERTH_WORKFLOW_CACHE=0}, which turns sticky execution off
 * (BerthWorker): Temporal's test server never moves a workflow task off a dead worker's sticky
 * queue (a real server does after the sticky schedule-to-start timeout, 5 s by default), so a
 * SIGKILLed worker would strand its workflows there (see docs/FAULTS.md).
 */
final class FaultStack implements AutoCloseable {
  static final String SECRET = "fault-suite-secret-of-at-least-32-bytes!";
  final PrivateRedis redisServer;
  final Path root;
  final Path state;
  final Map<String, String> env = new HashMap<>();
  final int temporalPort;
  final int gatewayPort;
  final RedisClient redis;
  final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<JavaProcess> started = new ArrayList<>();
  private JavaProcess temporal;
  private JavaProcess worker;
  private int workers;
  private WorkflowServiceStubs stubs;
  private WorkflowClient client;
  private ApplicationContext api;
  private LocalFleet fleetView;

  private FaultStack(Map<String, String> overrides) throws IOException {
    redisServer = PrivateRedis.start();
    root = Files.createTempDirectory("berth-faults");
    state = Files.createDirectories(root.resolve("state"));
    temporalPort = FreePorts.next();
    gatewayPort = FreePorts.next();
    int apiPort = FreePorts.next();
    int firstPort = 20_000 + ThreadLocalRandom.current().nextInt(0, 40) * 250;
    env.put("BERTH_STATE_DIR", state.toString());
    env.put("BERTH_REDIS_URL", redisServer.url());
    env.put("BERTH_TEMPORAL_TARGET", "127.0.0.1:" + temporalPort);
    env.put("BERTH_API_PORT", String.valueOf(apiPort));
    env.put("BERTH_API_URL", "http://127.0.0.1:" + apiPort);
    env.put("BERTH_GATEWAY_LISTEN", "127.0.0.1:" + gatewayPort);
    env.put("BERTH_PUBLIC_URL", "http://{label}.localhost:" + gatewayPort + "/");
    env.put("BERTH_PORT_RANGE", firstPort + "-" + (firstPort + 249));
    env.put("BERTH_JWT_SECRET", SECRET);
    // The worker process writes it into its Nginx, the API of this JVM checks it. Given, not left to
    // the state directory: ./berth exports a BERTH_STATE_DIR, which Micronaut would map over the API's.
    env.put("BERTH_GATEWAY_TOKEN", "fault-stack-gateway-token-0123456789abcdef");
    env.put("BERTH_SPARES", "1");
    env.put("BERTH_RECONCILE_INTERVAL", "PT1S");
    env.put("BERTH_SCALE_OUT_COOLDOWN", "PT2S");
    env.put("BERTH_SCALE_IN_STABLE_WINDOW", "PT3S");
    env.put("BERTH_ALLOCATE_WAIT", "PT30S");
    env.put("BERTH_ALLOCATE_RATE", "100000/min");
    env.put("BERTH_WORKFLOW_CACHE", "0");
    env.putAll(overrides);
    redis = RedisClient.create(redisServer.url());
  }

  /** Redis, Temporal, the worker (waits for its spares) and the API. */
  static FaultStack start(Map<String, String> overrides) {
    FaultStack f;
    try {
      f = new FaultStack(overrides);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      f.startTemporal();
      f.startWorker();
      f.startApi();
      return f;
    } catch (RuntimeException | Error e) {
      f.close();
      throw e;
    }
  }

  // ---- processes -------------------------------------------------------------------------------

  void startTemporal() {
    temporal = JavaProcess.start("temporal", root, env, "io.berth.stack.temporal.TemporalServerMain",
        String.valueOf(temporalPort));
    started.add(temporal);
    temporal.awaitLog("temporal test server listening on", Duration.ofSeconds(60));
    if (stubs == null) {
      stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
          .setTarget("127.0.0.1:" + temporalPort).build());
      client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace("default").build());
    }
  }

  JavaProcess temporal() {
    return temporal;
  }

  /** A new worker process; returns once it has started its pollers and the capacity workflow. */
  JavaProcess startWorker() {
    worker = JavaProcess.start("worker-" + (++workers), root, env, "io.berth.worker.Main");
    started.add(worker);
    worker.awaitLog("worker started", Duration.ofSeconds(90));
    return worker;
  }

  JavaProcess worker() {
    return worker;
  }

  void startApi() {
    Map<String, Object> p = new HashMap<>(env);
    api = ApplicationContext.builder().properties(p).deduceEnvironment(false).start();
    api.getBean(EmbeddedServer.class).start();
  }

  // ---- views -----------------------------------------------------------------------------------

  WorkflowClient client() {
    return client;
  }

  String apiUrl() {
    return "http://127.0.0.1:" + api.getBean(EmbeddedServer.class).getPort();
  }

  /** A read-only view of the worker's local fleet: its host records in Redis and its processes. */
  LocalFleet fleet() {
    if (fleetView == null) {
      String[] range = env.get("BERTH_PORT_RANGE").split("-");
      int slots = Integer.parseInt(env.getOrDefault("BERTH_SLOTS_PER_HOST", "1"));
      int max = Integer.parseInt(env.getOrDefault("BERTH_MAX_HOSTS", "10"));
      fleetView = new LocalFleet(redis, keys, new PortAllocator(redis, keys, Integer.parseInt(range[0]),
          Integer.parseInt(range[1])), new LocalFleetConfig(state, 0, max, slots, DemoTemplate.ofThisJvm(),
          env.get("BERTH_API_URL"), Duration.ofSeconds(1)));
    }
    return fleetView;
  }

  Path routesDir() {
    return state.resolve("nginx/routes");
  }

  Invariants.Sources sources() {
    return new Invariants.Sources(client, redis, keys, fleet(), routesDir(), state.resolve("fleet"),
        "127.0.0.1", gatewayPort, "localhost", env.getOrDefault("BERTH_TEMPLATE", "demo"),
        !"files".equals(env.get("BERTH_ROUTING")));
  }

  /** The Nginx master the worker started (or adopted), from its pid file. */
  long nginxMaster() {
    try {
      return Long.parseLong(Files.readString(state.resolve("nginx/logs/nginx.pid")).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- calls -----------------------------------------------------------------------------------

  static String token(String user) {
    return TokenMinter.mint(SECRET, user, false, Duration.ofMinutes(30));
  }

  static String adminToken() {
    return TokenMinter.mint(SECRET, "ops", true, Duration.ofMinutes(30));
  }

  HttpResponse<String> call(String method, String path, String bearer, String body) {
    return new ApiCalls(http, this::apiUrl, Duration.ofSeconds(150)).call(method, path, bearer, body);
  }


  HttpResponse<String> allocate(String user) {
    return call("POST", "/api/workspaces", token(user), "{}");
  }

  /** Allocates and insists on 200 READY. */
  HttpResponse<String> ready(String user) {
    HttpResponse<String> r = allocate(user);
    if (r.statusCode() != 200 || !r.body().contains("\"READY\"")) {
      throw new AssertionError("allocate " + user + ": " + r.statusCode() + " " + r.body());
    }
    return r;
  }

  /** The user's workflow's view (a query: needs a live worker). */
  WorkspaceView view(String user) {
    return client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user)).view();
  }

  HttpResponse<String> release(String user) {
    return call("DELETE", "/api/workspaces/me", token(user), null);
  }

  /** The heartbeat token the fleet handed to the user's slot (what the workspace itself sends); null when none. */
  String workspaceToken(String user) {
    Map<String, String> ws = session(user);
    if (ws.get("slotId") == null) {
      return null;
    }
    Path file = state.resolve("fleet").resolve(ws.get("hostId")).resolve("slot-" + ws.get("slotId").split("/")[1])
        .resolve("token");
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      return null;
    }
  }

  HttpResponse<String> heartbeat(String workspaceToken) {
    return call("POST", "/api/heartbeat", workspaceToken, null);
  }

  /** GET through Nginx with the workspace's Host header and no cookie (workspace auth answers 302). */
  GatewayClient.Answer viaGateway(String user, String path) {
    return gatewayGet(Labels.labelFor(user) + ".localhost", path, null);
  }

  /** True when Nginx says it routes the user's hostname (its own check path, no auth). */
  boolean routed(String user) {
    try {
      return Labels.labelFor(user).equals(viaGateway(user, "/.berth/route").header("X-Berth-Route"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** A page of the user's workspace as its owner's browser gets it: launch link, cookie, then the page. */
  GatewayClient.Answer asOwner(String user, String path) {
    String cookie = launchCookie(user, call("POST", "/api/workspaces/me/launch", token(user), null),
        (host, pathAndQuery) -> gatewayGet(host, pathAndQuery, null));
    return gatewayGet(Labels.labelFor(user) + ".localhost", path, cookie);
  }

  /**
   * What the owner's browser holds after opening a launch link: the cookie pair. {@code answer} is
   * the API's answer to {@code POST /api/workspaces/me/launch}; {@code open} GETs (host, path?query)
   * through a gateway with no cookie.
   */
  static String launchCookie(String user, HttpResponse<String> answer,
                             java.util.function.BiFunction<String, String, GatewayClient.Answer> open) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"url\"\\s*:\\s*\"([^\"]*)\"").matcher(answer.body());
    if (answer.statusCode() != 200 || !m.find()) {
      throw new AssertionError("launch link for " + user + ": " + answer.statusCode() + " " + answer.body());
    }
    URI launch = URI.create(m.group(1));
    GatewayClient.Answer opened = open.apply(launch.getHost(),
        launch.getRawPath() + (launch.getRawQuery() == null ? "" : "?" + launch.getRawQuery()));
    String cookie = opened.header("Set-Cookie");
    if (opened.status() != 302 || cookie == null) {
      throw new AssertionError("launch for " + user + ": " + opened.status() + " " + opened.body());
    }
    return cookie.split(";")[0];
  }

  private GatewayClient.Answer gatewayGet(String host, String path, String cookie) {
    try {
      return GatewayClient.get("127.0.0.1", gatewayPort, host, path, Duration.ofSeconds(5),
          cookie == null ? Map.of() : Map.of("Cookie", cookie));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Map<String, String> session(String user) {
    return redis.hgetAll(keys.workspace(user));
  }

  long spares() {
    return redis.scard(keys.pool(env.getOrDefault("BERTH_TEMPLATE", "demo")));
  }

  void awaitSpares(long n) {
    Await.until(n + " spare(s) in the pool", Duration.ofSeconds(90), () -> spares() == n);
  }

  List<HistoryEvent> history(String user) {
    return client.fetchHistory(WorkspaceWorkflow.idFor(user)).getHistory().getEventsList();
  }

  /** Activity types (regular and local) in the order the workflow ran them. */
  List<String> scheduled(String user) {
    return HistorySteps.activityTypes(history(user));
  }

  /** Waits until the user's workflow has scheduled {@code activityType} (and it has not completed). */
  void awaitScheduled(String user, String activityType, Duration bound) {
    Await.until(user + "'s workflow to schedule " + activityType, bound, () -> scheduled(user).contains(activityType));
  }

  WorkspaceView awaitEnd(String user, Duration bound) {
    try {
      return client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user))
          .getResult(bound.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS, WorkspaceView.class);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(user + "'s workflow did not end within " + bound, e);
    }
  }

  void pokeCapacity() {
    client.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).poke("test");
  }

  // ---- signals to processes --------------------------------------------------------------------

  static void signal(String name, long pid) {
    try {
      Process p = new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).redirectErrorStream(true).start();
      if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * The API, the worker (SIGTERM: its hook stops Nginx and the workspaces), Temporal, Redis; then
   * whatever a killed worker left behind (processes under this stack's state directory) is killed
   * by pid, and the directory removed.
   */
  @Override
  public void close() {
    if (api != null) {
      try {
        api.close();
      } catch (RuntimeException e) {
        System.err.println("closing the api: " + e);
      }
    }
    List<JavaProcess> reversed = new ArrayList<>(started);
    java.util.Collections.reverse(reversed);
    reversed.forEach(JavaProcess::close);
    if (stubs != null) {
      stubs.shutdownNow();
    }
    killLeftovers(state);
    redis.close();
    redisServer.close();
    keepLogsAndDelete(root);
  }

  /** The processes' logs go to stack/target/fault-logs/ for a look after a failure; then the tree goes. */
  static void keepLogsAndDelete(Path root) {
    Path dest = Path.of("target", "fault-logs", root.getFileName().toString());
    try (Stream<Path> logs = Files.list(root)) {
      Files.createDirectories(dest);
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        Files.copy(log, dest.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      System.err.println("could not keep the logs: " + e);
    }
    deleteTree(root);
  }

  /**
   * Stops what {@link #leftovers(Path)} finds under {@code dir}, and their children: SIGTERM first,
   * so that an Nginx master takes its workers with it (a SIGKILLed master leaves them running,
   * renamed, out of sight of the command-line search); SIGKILL for what is left after a bound.
   */
  static void killLeftovers(Path dir) {
    List<ProcessHandle> left = new ArrayList<>();
    for (ProcessHandle h : leftovers(dir)) {
      left.add(h);
      h.descendants().forEach(left::add);
    }
    left.forEach(ProcessHandle::destroy);
    left.forEach(h -> {
      try {
        h.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    });
    left.stream().filter(ProcessHandle::isAlive).forEach(h -> System.err.println("process " + h.pid() + " did not exit"));
  }

  /** Processes started for this stack: Nginx (its prefix is on its command line) and workspaces (their slot dir). */
  List<ProcessHandle> leftovers() {
    return leftovers(state);
  }

  static List<ProcessHandle> leftovers(Path dir) {
    List<ProcessHandle> left = new ArrayList<>();
    String marker = dir.toString() + "/";
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).forEach(p -> {
        if (mentions(p.resolve("cmdline"), marker) || mentions(p.resolve("environ"), "BERTH_SLOT_DIR=" + marker)) {
          ProcessHandle.of(Long.parseLong(p.getFileName().toString())).ifPresent(left::add);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return left;
  }

  private static boolean mentions(Path file, String marker) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).contains(marker);
    } catch (IOException | SecurityException e) {
      return false;
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }

  Optional<String> workerLogTail() {
    return worker == null ? Optional.empty() : Optional.of(worker.tail(60));
  }
}
