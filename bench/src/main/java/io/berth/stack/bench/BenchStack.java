package io.berth.stack.bench;

import io.berth.api.access.TokenMinter;
import io.berth.stack.ApiCalls;
import io.berth.activities.routing.GatewayClient;
import io.berth.stack.EmbeddedStack;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.Labels;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.common.interceptors.WorkerInterceptor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A private embedded stack for one scenario, as the end-to-end tests start it: a private
 * redis-server, a temp state dir, free loopback ports, no allocation quota.
 */
final class BenchStack implements AutoCloseable {
  /** Settings a bench run takes from its own environment, to compare one against another. */
  static final List<String> PASSED_THROUGH = List.of("BERTH_ROUTING", "BERTH_POLLERS", "BERTH_ISOLATION",
      "BERTH_TRUST_WORKSPACE_USERS");
  final PrivateRedis redisServer;
  final Path stateDir;
  final EmbeddedStack stack;
  final int gatewayPort;
  final String secret;
  final String template;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private BenchStack(PrivateRedis redisServer, Path stateDir, int gatewayPort, String secret, EmbeddedStack stack) {
    this.redisServer = redisServer;
    this.stateDir = stateDir;
    this.gatewayPort = gatewayPort;
    this.secret = secret;
    this.stack = stack;
    this.template = stack.config().template();
  }

  /** Settings every bench stack shares; {@code overrides} win. */
  static BenchStack start(Map<String, String> overrides, WorkerInterceptor... interceptors) {
    PrivateRedis redis = Cleanup.register(PrivateRedis.start());
    try {
      Path state = Files.createTempDirectory("berth-bench");
      int gateway = FreePorts.next();
      int api = FreePorts.next();
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(key);
      Map<String, String> env = new HashMap<>();
      env.put("BERTH_STATE_DIR", state.toString());
      env.put("BERTH_REDIS_URL", redis.url());
      env.put("BERTH_TEMPORAL_PORT", String.valueOf(FreePorts.next()));
      env.put("BERTH_API_PORT", String.valueOf(api));
      env.put("BERTH_API_URL", "http://127.0.0.1:" + api);
      env.put("BERTH_GATEWAY_LISTEN", "127.0.0.1:" + gateway);
      env.put("BERTH_PORT_RANGE", "12000-19999");
      env.put("BERTH_JWT_SECRET", secret);
      env.put("BERTH_ALLOCATE_RATE", "off");
      // BERTH_ROUTING=files ./berth bench ... measures the reload path against the default dynamic
      // one; BERTH_POLLERS=5 the SDK's default pollers against Berth's; BERTH_ISOLATION=off
      // BERTH_TRUST_WORKSPACE_USERS=true the slots without their box (docs/SECURITY.md).
      for (String name : PASSED_THROUGH) {
        String value = System.getenv(name);
        if (value != null && !value.isBlank()) {
          env.put(name, value);
        }
      }
      env.putAll(overrides);
      env.putIfAbsent("BERTH_TEMPLATES", env.getOrDefault("BERTH_TEMPLATE", "demo"));
      return Cleanup.register(new BenchStack(redis, state, gateway, secret, EmbeddedStack.start(env, interceptors)));
    } catch (IOException | RuntimeException e) {
      redis.close();
      Cleanup.closed(redis);
      throw new IllegalStateException("could not start the bench stack: " + e, e);
    }
  }

  String token(String user) {
    return TokenMinter.mint(secret, user, false, Duration.ofHours(2));
  }

  HttpResponse<String> call(String method, String path, String bearer, String body) {
    return new ApiCalls(http, stack::apiUrl, Duration.ofSeconds(120)).call(method, path, bearer, body);
  }


  HttpResponse<String> allocate(String user) {
    return call("POST", "/api/workspaces", token(user), "{}");
  }

  /** POST /api/workspaces for {@code template}'s pool. */
  HttpResponse<String> allocate(String user, String template) {
    return call("POST", "/api/workspaces", token(user), "{\"template\":\"" + template + "\"}");
  }

  static boolean ready(HttpResponse<String> r) {
    return r.statusCode() == 200 && "READY".equals(field(r.body(), "state"));
  }

  HttpResponse<String> release(String user) {
    return call("DELETE", "/api/workspaces/me", token(user), null);
  }

  HttpResponse<String> me(String user) {
    return call("GET", "/api/workspaces/me", token(user), null);
  }

  /**
   * POST, then (after a 202) GET /api/workspaces/me every 200 ms until READY, bounded. Null when
   * READY, else what went wrong. A POST that times out is sent again (Update-With-Start is idempotent per user).
   */
  String readyWithin(String user, Duration bound) {
    long end = System.nanoTime() + bound.toNanos();
    HttpResponse<String> r = null;
    String last = "no answer";
    boolean posted = false;
    while (System.nanoTime() < end) {
      try {
        r = posted ? me(user) : allocate(user);
        posted = true;
        if (ready(r)) {
          return null;
        }
        String state = field(r.body(), "state");
        last = r.statusCode() + " " + r.body();
        if ("FAILED".equals(state) || (r.statusCode() >= 400 && r.statusCode() != 404 && r.statusCode() != 503)) {
          return user + ": " + last;
        }
      } catch (IllegalStateException e) {
        last = e.getMessage();
      }
      sleep(200);
    }
    return user + ": not READY within " + bound + " (last: " + last + ")";
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  /** One GET through the private Nginx with the workspace's Host header, as a browser would. */
  GatewayClient.Answer viaGateway(String user, String path) throws IOException {
    return GatewayClient.get("127.0.0.1", gatewayPort, hostname(user), path, Duration.ofSeconds(5));
  }

  /**
   * The workspace serves its owner through Nginx, as a browser would reach it: a fresh launch link
   * from the API, opened on the gateway for the {@code berth_ws} cookie, then GET / with the cookie
   * must answer 2xx with this workspace's route header.
   */
  boolean serves(String user) {
    try {
      String cookie = cookie(user);
      if (cookie == null) {
        return false;
      }
      GatewayClient.Answer page = GatewayClient.get("127.0.0.1", gatewayPort, hostname(user), "/",
          Duration.ofSeconds(5), Map.of("Cookie", cookie));
      return page.status() >= 200 && page.status() < 300 && Labels.labelFor(user).equals(page.header("X-Berth-Route"));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * What the owner's browser holds after opening a fresh launch link on the gateway: the
   * {@code berth_ws=...} cookie pair, or null when the API or the gateway did not hand one out.
   */
  String cookie(String user) throws IOException {
    HttpResponse<String> link = call("POST", "/api/workspaces/me/launch", token(user), null);
    String url = link.statusCode() == 200 ? field(link.body(), "url") : null;
    if (url == null) {
      return null;
    }
    URI u = URI.create(url);
    GatewayClient.Answer launch = GatewayClient.get("127.0.0.1", gatewayPort, u.getHost(),
        u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()), Duration.ofSeconds(5));
    String setCookie = launch.header("Set-Cookie");
    return launch.status() == 302 && setCookie != null ? setCookie.split(";")[0] : null;
  }

  /** Nginx has the workspace's route: {@code /.berth/route} (answered by Nginx itself) carries its header. */
  boolean routed(String user) {
    try {
      return Labels.labelFor(user).equals(viaGateway(user, "/.berth/route").header("X-Berth-Route"));
    } catch (IOException e) {
      return false;
    }
  }

  String hostname(String user) {
    return Labels.labelFor(user) + "." + stack.config().domain();
  }

  long spares() {
    return spares(template);
  }

  long spares(String template) {
    return stack.redis().scard(stack.keys().pool(template));
  }

  Map<String, String> session(String user) {
    return stack.redis().hgetAll(stack.keys().workspace(user));
  }

  /** The heartbeat token the fleet handed to the user's slot (what the workspace itself sends). */
  String workspaceToken(String user) {
    Map<String, String> ws = session(user);
    Path file = stateDir.resolve("fleet").resolve(ws.get("hostId"))
        .resolve("slot-" + ws.get("slotId").split("/")[1]).resolve("token");
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      throw new IllegalStateException("no token for " + user + " at " + file, e);
    }
  }

  CapacityStatus capacity() {
    return stack.temporal().client().newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).status();
  }

  WorkspaceView view(String user) {
    return stack.temporal().client().newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user)).view();
  }

  /** Waits (bounded) for the user's current run to finish; false when it did not. */
  boolean awaitEnd(String user, Duration bound) {
    try {
      stack.temporal().client().newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user))
          .getResult(bound.toMillis(), TimeUnit.MILLISECONDS, WorkspaceView.class);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (RuntimeException e) {
      return true; // ended some other way
    }
  }

  static boolean await(Duration bound, BooleanSupplier condition) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      sleep(50);
    }
    return condition.getAsBoolean();
  }

  void awaitSpares(long n, Duration bound) {
    awaitSpares(template, n, bound);
  }

  void awaitSpares(String template, long n, Duration bound) {
    if (!await(bound, () -> spares(template) >= n)) {
      throw new IllegalStateException("only " + spares(template) + " of " + n + " " + template + " spares after "
          + bound);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    Cleanup.closed(this);
    try {
      stack.close();
    } finally {
      redisServer.close();
      Cleanup.closed(redisServer);
      deleteTree(stateDir);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      System.err.println("bench: could not delete " + root + ": " + e);
    }
  }
}
