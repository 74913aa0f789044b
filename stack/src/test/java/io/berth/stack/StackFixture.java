package io.berth.stack;

import io.berth.activities.routing.GatewayClient;
import io.berth.api.access.TokenMinter;
import io.berth.testkit.Await;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.Labels;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.common.interceptors.WorkerInterceptor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real embedded stack for end-to-end tests: a private redis-server, the Temporal test server,
 * worker, private Nginx, local fleet and API, all on free loopback ports, with a temp state dir.
 */
final class StackFixture implements AutoCloseable {
  static final String SECRET = "end-to-end-test-secret-of-at-least-32-bytes";
  final PrivateRedis redisServer;
  final Path stateDir;
  final EmbeddedStack stack;
  final int gatewayPort;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private StackFixture(PrivateRedis redisServer, Path stateDir, int gatewayPort, EmbeddedStack stack) {
    this.redisServer = redisServer;
    this.stateDir = stateDir;
    this.gatewayPort = gatewayPort;
    this.stack = stack;
  }

  /** Settings every end-to-end stack shares; {@code overrides} win. */
  static StackFixture start(Map<String, String> overrides, WorkerInterceptor... interceptors) {
    // With a password, as ./berth up's own Redis has: a workspace process must not be able to write to it.
    PrivateRedis redis = PrivateRedis.withPassword();
    try {
      Path state = overrides.containsKey("BERTH_STATE_DIR") ? Path.of(overrides.get("BERTH_STATE_DIR"))
          : Files.createTempDirectory("berth-e2e");
      Path password = state.resolve("redis-password");
      Files.createFile(password, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(password, redis.password() + "\n");
      int gateway = FreePorts.next();
      int firstPort = 20_000 + ThreadLocalRandom.current().nextInt(0, 40) * 250;
      Map<String, String> env = new HashMap<>();
      env.put("BERTH_STATE_DIR", state.toString());
      env.put("BERTH_REDIS_URL", redis.urlWithoutPassword());
      env.put("BERTH_REDIS_PASSWORD_FILE", password.toString());
      env.put("BERTH_TEMPORAL_PORT", String.valueOf(FreePorts.next()));
      int api = FreePorts.next();
      env.put("BERTH_API_PORT", String.valueOf(api));
      env.put("BERTH_API_URL", "http://127.0.0.1:" + api);
      env.put("BERTH_GATEWAY_LISTEN", "127.0.0.1:" + gateway);
      env.put("BERTH_PORT_RANGE", firstPort + "-" + (firstPort + 249));
      env.put("BERTH_JWT_SECRET", SECRET);
      env.put("BERTH_SPARES", "1");
      env.put("BERTH_RECONCILE_INTERVAL", "PT1S");
      env.put("BERTH_SCALE_OUT_COOLDOWN", "PT2S");
      env.put("BERTH_SCALE_IN_STABLE_WINDOW", "PT3S");
      env.put("BERTH_ALLOCATE_WAIT", "PT30S");
      env.put("BERTH_ALLOCATE_RATE", "1000/min");
      env.putAll(overrides);
      return new StackFixture(redis, state, gateway, EmbeddedStack.start(env, interceptors));
    } catch (IOException | RuntimeException e) {
      redis.close();
      throw new IllegalStateException("could not start the embedded stack", e instanceof IOException ? e : e);
    }
  }

  static String token(String user) {
    return TokenMinter.mint(SECRET, user, false, Duration.ofMinutes(30));
  }

  static String adminToken() {
    return TokenMinter.mint(SECRET, "ops", true, Duration.ofMinutes(30));
  }

  HttpResponse<String> call(String method, String path, String bearer, String body) {
    return new ApiCalls(http, stack::apiUrl, Duration.ofSeconds(60)).call(method, path, bearer, body);
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

  /** A correctly signed JWT whatever the subject: what a lenient identity provider could issue. */
  static String rawToken(String sub) {
    try {
      com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().subject(sub)
          .expirationTime(new java.util.Date(System.currentTimeMillis() + 600_000)).build();
      com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
          new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims);
      jwt.sign(new com.nimbusds.jose.crypto.MACSigner(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      return jwt.serialize();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * GET through the private Nginx with the workspace's Host header and no cookie: what anyone who
   * knows the URL gets (a redirect to the dashboard while workspace auth is on, 404 with no route).
   */
  GatewayClient.Answer viaGateway(String user, String path) {
    return viaGateway(user, path, null);
  }

  /** GET through the private Nginx with the workspace's Host header and a Cookie header (null: none). */
  GatewayClient.Answer viaGateway(String user, String path, String cookie) {
    return gatewayGet(hostname(user), path, cookie);
  }

  GatewayClient.Answer gatewayGet(String host, String path, String cookie) {
    try {
      return GatewayClient.get("127.0.0.1", gatewayPort, host, path, Duration.ofSeconds(5),
          cookie == null ? Map.of() : Map.of("Cookie", cookie));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh one-time launch link for the user's workspace, from the API with their JWT. */
  String launchUrl(String user) {
    HttpResponse<String> r = call("POST", "/api/workspaces/me/launch", token(user), null);
    if (r.statusCode() != 200) {
      throw new AssertionError("launch link for " + user + ": " + r.statusCode() + " " + r.body());
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"url\"\\s*:\\s*\"([^\"]*)\"").matcher(r.body());
    if (!m.find()) {
      throw new AssertionError("no url in " + r.body());
    }
    return m.group(1);
  }

  /** Opens a launch link through the gateway as a browser would; the answer carries the Set-Cookie. */
  GatewayClient.Answer open(String launchUrl, String cookie) {
    URI u = URI.create(launchUrl);
    if (u.getPort() != gatewayPort) {
      throw new AssertionError("launch link not on this stack's gateway: " + launchUrl);
    }
    return gatewayGet(u.getHost(), u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()), cookie);
  }

  /** What the owner's browser holds after opening a launch link: the {@code berth_ws=...} cookie pair. */
  String launch(String user) {
    GatewayClient.Answer a = open(launchUrl(user), null);
    String setCookie = a.header("Set-Cookie");
    if (a.status() != 302 || setCookie == null) {
      throw new AssertionError("launch for " + user + ": " + a.status() + " " + a.headers() + " " + a.body());
    }
    return setCookie.split(";")[0];
  }

  /** GET a page of the user's workspace as its owner: launch, then the request with the cookie. */
  GatewayClient.Answer asOwner(String user, String path) {
    return viaGateway(user, path, launch(user));
  }

  /** Where the gateway sends a request without a valid cookie. */
  String loginRedirect(String user) {
    return stack.config().dashboardUrl() + "?ws=" + Labels.labelFor(user);
  }

  String hostname(String user) {
    return Labels.labelFor(user) + "." + stack.config().domain();
  }

  Path routeFile(String user) {
    return stack.worker().nginx().routesDir().resolve(Labels.labelFor(user) + ".conf");
  }

  /** True with dynamic routing (the default), false with BERTH_ROUTING=files. */
  boolean dynamicRouting() {
    return stack.worker().nginx().dynamic();
  }

  /** The user's route as the routing mode keeps it: the {@code route:<label>} record, or the route file. */
  boolean hasRoute(String user) {
    return dynamicRouting() ? stack.redis().exists(stack.keys().route(Labels.labelFor(user)))
        : Files.exists(routeFile(user));
  }

  /** SIGSTOP / SIGCONT to the Nginx master and its workers: a gateway that accepts and never answers. */
  void freezeNginx(boolean frozen) {
    long master = stack.worker().nginx().masterPid().orElseThrow();
    java.util.List<Long> pids = new java.util.ArrayList<>(ProcessHandle.of(master).orElseThrow().children()
        .map(ProcessHandle::pid).toList());
    pids.add(master);
    for (long pid : pids) {
      try {
        new ProcessBuilder("kill", frozen ? "-STOP" : "-CONT", String.valueOf(pid)).start().waitFor();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  Map<String, String> session(String user) {
    return stack.redis().hgetAll(stack.keys().workspace(user));
  }

  /** The idle deadline the user's session holds (epoch millis). */
  long idleDeadline(String user) {
    return Long.parseLong(session(user).get("idleDeadline"));
  }

  long spares() {
    return stack.redis().scard(stack.keys().pool(stack.config().template()));
  }

  void awaitSpares(long n) {
    Await.until(n + " spare(s) in the pool", Duration.ofSeconds(60), () -> spares() == n);
  }

  WorkflowExecutionStatus workflowStatus(String user) {
    return stack.temporal().client().newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe().getStatus();
  }

  WorkspaceView awaitEnd(String user, Duration bound) {
    try {
      return stack.temporal().client().newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user))
          .getResult(bound.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS, WorkspaceView.class);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(user + "'s workflow did not end within " + bound, e);
    }
  }

  /** The heartbeat token the fleet handed to the user's slot (what the workspace itself would send). */
  String workspaceToken(String user) {
    Map<String, String> ws = session(user);
    Path file = stateDir.resolve("fleet").resolve(ws.get("hostId")).resolve("slot-" + ws.get("slotId").split("/")[1])
        .resolve("token");
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      throw new IllegalStateException("no token for " + user + " at " + file, e);
    }
  }

  HttpResponse<String> heartbeat(String workspaceToken) {
    return call("POST", "/api/heartbeat", workspaceToken, null);
  }

  /** Owner tag of a slot as the fleet reports it. */
  String ownerOf(String slotId) {
    return stack.worker().fleet().describe().hosts().stream().flatMap(h -> h.slots().stream())
        .filter(s -> s.slot().slotId().equals(slotId)).findFirst().map(s -> s.owner()).orElse(null);
  }

  boolean hostProtected(String hostId) {
    return stack.worker().fleet().describe().hosts().stream()
        .anyMatch(h -> h.hostId().equals(hostId) && h.scaleInProtected());
  }

  /**
   * When a workspace's host stopped serving through the gateway: polled (own pace 5 ms) until it
   * answers 404 or {@code untilMillis}. {@code lastServedSentAt}: when the last answer that still
   * reached the workspace (302 to the launch page, no cookie) was sent; 0 when none or never gone.
   * {@code otherStatus}: the first answer that was neither (0 when none).
   */
  record RouteGone(long lastServedSentAt, long goneSentAt, long goneSeenAt, int otherStatus) {}

  RouteGone pollUntilGone(String user, long untilMillis) throws InterruptedException {
    long lastServed = 0;
    int other = 0;
    while (System.currentTimeMillis() < untilMillis) {
      long sent = System.currentTimeMillis();
      int status = viaGateway(user, "/healthz").status();
      long seen = System.currentTimeMillis();
      if (status == 404) {
        return new RouteGone(lastServed, sent, seen, other);
      }
      if (status == 302) {
        lastServed = sent;
      } else if (other == 0) {
        other = status;
      }
      Thread.sleep(5); // the poll's own pace
    }
    return new RouteGone(lastServed, 0, 0, other);
  }

  @Override
  public void close() {
    try {
      stack.close();
    } finally {
      redisServer.close();
    }
  }
}
