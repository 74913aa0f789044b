package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.PrivateRedis;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.RouteSpec;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * Dynamic routing on a real Nginx (the main config's wildcard server), a real Redis and real HTTP
 * to a stand-in of the API's two gateway answers ({@link RouteLookup}): a route serves as soon as
 * its record is written, and no reload ever happens.
 */
class RedisRoutesTest {
  private static final String DOMAIN = "berth.localhost";
  private static final Duration T = Duration.ofSeconds(2);
  private static PrivateRedis server;
  private static RedisClient redis;

  private final RedisKeys keys = new RedisKeys("rt-" + System.nanoTime() + ":");
  private RouteLookup api;
  private PrivateNginx n;
  private RedisRoutes routes;
  private final List<Upstream> upstreams = new ArrayList<>();

  @BeforeAll
  static void redis() {
    server = PrivateRedis.start();
    redis = RedisClient.create(server.url());
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
    server.close();
  }

  @BeforeEach
  void start() {
    api = new RouteLookup(redis, keys, DOMAIN);
    n = PrivateNginx.start(new WildcardServer(DOMAIN, api.base(), WorkspaceAuth.none(), UpstreamHost.CLIENT));
    routes = new RedisRoutes(n.nginx, redis, keys, Duration.ofSeconds(2));
  }

  @AfterEach
  void stop() {
    routes.close();
    upstreams.forEach(Upstream::close);
    api.close();
    n.close();
  }

  private Upstream upstream(String name) {
    Upstream u = new Upstream(name);
    upstreams.add(u);
    return u;
  }

  private static RouteSpec spec(String requestId, String label, Upstream u) {
    return new RouteSpec(requestId, "user-" + label, label, label + "." + DOMAIN, "127.0.0.1", u.port());
  }

  private GatewayClient.Answer get(String host, String path) throws IOException {
    return GatewayClient.get(n.gateway(), host, path, T);
  }

  private void assertServedBy(String label, Upstream u) throws IOException {
    GatewayClient.Answer a = get(label + "." + DOMAIN, "/");
    assertEquals(200, a.status(), a.body());
    assertEquals("upstream " + u.name, a.body());
    assertEquals(label, a.header("X-Berth-Route"));
  }

  private void assertNotRouted(String label) throws IOException {
    GatewayClient.Answer a = get(label + "." + DOMAIN, "/");
    assertEquals(404, a.status());
    assertEquals(NginxProcess.NOT_FOUND_BODY, a.body());
    assertNull(a.header("X-Berth-Route"));
    GatewayClient.Answer check = get(label + "." + DOMAIN, "/.berth/route");
    assertEquals(404, check.status());
    assertEquals(NginxProcess.NOT_FOUND_BODY, check.body());
  }

  /** The master and the workers that accept connections: a reload replaces the workers. */
  private Set<Long> nginxProcesses() {
    long master = n.nginx.masterPid().orElseThrow();
    Set<Long> pids = ProcessHandle.of(master).orElseThrow().children().map(ProcessHandle::pid)
        .collect(Collectors.toSet());
    pids.add(master);
    return pids;
  }

  private String errorLog() throws IOException {
    Path log = n.prefix.resolve("logs/error.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  @Test
  void aRouteServesAsSoonAsItIsWrittenWithoutAReload() throws IOException {
    Set<Long> before = nginxProcesses();
    Upstream a = upstream("a");
    Upstream b = upstream("b");
    routes.routeWorkspace(spec("req-1", "alice-1a2b3c4d", a));
    assertServedBy("alice-1a2b3c4d", a);
    assertEquals(Map.of("address", "127.0.0.1", "port", String.valueOf(a.port()), "user", "user-alice-1a2b3c4d",
        "requestId", "req-1"), redis.hgetAll(keys.route("alice-1a2b3c4d")));
    routes.routeWorkspace(spec("req-2", "bob-99", b));
    assertServedBy("bob-99", b);
    assertEquals(List.of("alice-1a2b3c4d", "bob-99"), routes.routedLabels());

    routes.unrouteWorkspace(spec("req-1", "alice-1a2b3c4d", a));
    assertNotRouted("alice-1a2b3c4d");
    assertServedBy("bob-99", b);
    routes.unrouteWorkspace(spec("req-1", "alice-1a2b3c4d", a)); // again: nothing there, no failure
    assertEquals(List.of("bob-99"), routes.routedLabels());

    assertEquals(before, nginxProcesses(), "same master, same worker: nothing reloaded");
    assertFalse(errorLog().contains("reconfiguring"), errorLog());
    RoutingHealth h = routes.health();
    assertTrue(h.nginxRunning());
    assertEquals(1, h.routes());
    assertEquals(0, h.reloads());
    assertEquals(3, h.changesApplied());
    assertNull(h.lastError());
  }

  @Test
  void aLateUndoOfAnEarlierRequestLeavesTheNewerRouteOfTheSameLabel() throws IOException {
    Upstream old = upstream("old");
    Upstream fresh = upstream("fresh");
    routes.routeWorkspace(spec("req-old", "carol-1", old));
    routes.routeWorkspace(spec("req-new", "carol-1", fresh));
    assertServedBy("carol-1", fresh);

    routes.unrouteWorkspace(spec("req-old", "carol-1", old));
    assertServedBy("carol-1", fresh);
    assertEquals("req-new", redis.hget(keys.route("carol-1"), "requestId"));

    routes.unrouteWorkspace(spec("req-new", "carol-1", fresh));
    assertNotRouted("carol-1");
  }

  @Test
  void invalidInputIsRejectedBeforeAnythingIsWritten() {
    Upstream a = upstream("a");
    List<RouteSpec> bad = List.of(
        new RouteSpec("req-1", "u", "Bad_Label", "Bad_Label." + DOMAIN, "127.0.0.1", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "other-1." + DOMAIN, "127.0.0.1", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "ok-1.bad domain", "127.0.0.1", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "ok-1." + DOMAIN, "localhost", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "ok-1." + DOMAIN, "example.com", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "ok-1." + DOMAIN, "127.0.0.1;", a.port()),
        new RouteSpec("req-1", "u", "ok-1", "ok-1." + DOMAIN, "127.0.0.1", 0),
        new RouteSpec("req-1", "u", "ok-1", "ok-1." + DOMAIN, "127.0.0.1", 70000),
        new RouteSpec("req 1", "u", "ok-1", "ok-1." + DOMAIN, "127.0.0.1", a.port()),
        new RouteSpec(null, "u", "ok-1", "ok-1." + DOMAIN, "127.0.0.1", a.port()),
        new RouteSpec("req-1", "\n", "ok-1", "ok-1." + DOMAIN, "127.0.0.1", a.port()));
    for (RouteSpec r : bad) {
      ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> routes.routeWorkspace(r), r.toString());
      assertEquals("InvalidInput", f.getType(), r.toString());
      assertTrue(f.isNonRetryable(), r.toString());
    }
    ApplicationFailure undo = assertThrows(ApplicationFailure.class,
        () -> routes.unrouteWorkspace(new RouteSpec("req 1", "u", "ok-1", "ok-1." + DOMAIN, null, 0)));
    assertEquals("InvalidInput", undo.getType());
    assertEquals(Set.of(), redis.keys(keys.route("") + "*"), "nothing reached Redis");
  }

  @Test
  void theWildcardServerTakesOnlyCheckedValues() {
    WorkspaceAuth none = WorkspaceAuth.none();
    for (String domain : List.of("Berth.localhost", "a;b", "x y", "berth.localhost$", "")) {
      assertThrows(IllegalArgumentException.class, () -> new WildcardServer(domain, api.base(), none,
          UpstreamHost.CLIENT), domain);
    }
    for (String url : List.of("http://127.0.0.1:1/path", "ftp://x", "http://a;b", "http://x y", "http://h/${x}")) {
      assertThrows(IllegalArgumentException.class, () -> new WildcardServer(DOMAIN, url, none, UpstreamHost.CLIENT),
          url);
    }
    assertEquals("api.example:443", new WildcardServer(DOMAIN, "https://api.example", none, UpstreamHost.CLIENT)
        .apiAddress());
    assertEquals("[::1]:9", new WildcardServer(DOMAIN, "http://[::1]:9", none, UpstreamHost.CLIENT).apiAddress());
    String name = new WildcardServer("a-1.example.com", api.base(), none, UpstreamHost.CLIENT).serverName();
    assertEquals("\"~^" + WildcardServer.LABEL_CAPTURE + "\\.a-1\\.example\\.com$\"", name);
  }

  @Test
  void theApiIsAskedOverKeptConnections() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("req-1", "kim-1", a));
    for (int i = 0; i < 20; i++) {
      assertServedBy("kim-1", a);
    }
    assertTrue(api.connections.get() < 10, "connections to the api for 21 answers: " + api.connections.get());
  }

  @Test
  void headersAndWebSocketUpgradeReachTheUpstream() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("req-1", "ann", a));
    String host = "ann." + DOMAIN;
    GatewayClient.Answer plain = get(host, "/echo");
    assertTrue(plain.body().contains("host=" + host + "\n"), plain.body());
    assertTrue(plain.body().contains("connection=close\n"), plain.body());
    assertTrue(plain.body().contains("x-forwarded-host=" + host + "\n"), plain.body());
    GatewayClient.Answer upgrade = GatewayClient.get(n.gateway().connectHost(), n.gateway().port(), host, "/echo", T,
        Map.of("Upgrade", "websocket"));
    assertTrue(upgrade.body().contains("upgrade=websocket\n"), upgrade.body());
    assertTrue(upgrade.body().contains("connection=upgrade\n"), upgrade.body());
  }

  @Test
  void unknownHostsGetTheDefault404AndLeftOverRouteFilesAreNotRead() throws IOException {
    Upstream a = upstream("a");
    // A file from an earlier run in files mode names its host exactly; the dynamic config includes none.
    Files.writeString(n.nginx.routesDir().resolve("stale-1.conf"), ServerBlock.render(n.gateway(), "stale-1",
        "stale-1." + DOMAIN, "127.0.0.1", a.port()));
    assertTrue(n.nginx.reload().ok());
    assertNotRouted("stale-1");
    assertNotRouted("nobody-1");
    for (String host : List.of("localhost", "x.y." + DOMAIN, "evil.example", "a." + DOMAIN + ".evil.example")) {
      GatewayClient.Answer r = get(host, "/");
      assertEquals(404, r.status(), host);
      assertEquals(NginxProcess.NOT_FOUND_BODY, r.body(), host);
    }
    assertFalse(n.nginx.mainConfig().contains("include " + n.prefix + "/routes"), n.nginx.mainConfig());
  }

  @Test
  void concurrentRoutesEachServeAtOnce() throws Exception {
    Upstream a = upstream("a");
    Set<Long> before = nginxProcesses();
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String label = "c-" + i;
        done.add(pool.submit(() -> routes.routeWorkspace(spec("req-" + label, label, a))));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(30, routes.routedLabels().size());
    for (int i = 0; i < 30; i++) {
      assertServedBy("c-" + i, a);
    }
    assertEquals(before, nginxProcesses());
  }

  @Test
  void withoutTheApiTheRouteIsNotConfirmedAndWithoutNginxItFailsFast() throws IOException {
    Upstream a = upstream("a");
    api.close();
    ApplicationFailure notServing = assertThrows(ApplicationFailure.class,
        () -> routes.routeWorkspace(spec("req-1", "dora-1", a)));
    assertEquals("RouteNotServing", notServing.getType());
    assertFalse(notServing.isNonRetryable());
    assertTrue(notServing.getOriginalMessage().contains("API"), notServing.getOriginalMessage());
    assertTrue(routes.health().lastError().contains("dora-1"));
    // The saga's undo: the record goes, and with the API down the gateway serves nothing anyway.
    routes.unrouteWorkspace(spec("req-1", "dora-1", a));
    assertEquals(List.of(), routes.routedLabels());

    n.nginx.stop();
    ApplicationFailure down = assertThrows(ApplicationFailure.class,
        () -> routes.routeWorkspace(spec("req-2", "dora-1", a)));
    assertEquals("NginxUnavailable", down.getType());
    assertFalse(down.isNonRetryable());
    assertEquals(List.of(), routes.routedLabels(), "nothing written while Nginx is down");
    // Teardown converges while Nginx is down: the record goes, nothing to confirm.
    redis.hset(keys.route("erin-1"), Map.of("address", "127.0.0.1", "port", "1", "user", "u", "requestId", "req-3"));
    routes.unrouteWorkspace(spec("req-3", "erin-1", a));
    assertEquals(List.of(), routes.routedLabels());
  }
}
