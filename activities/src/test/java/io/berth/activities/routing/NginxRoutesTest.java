package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.RouteSpec;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class NginxRoutesTest {
  private static final String DOMAIN = "berth.localhost";
  private static final Duration T = Duration.ofSeconds(2);

  private PrivateNginx n;
  private NginxRoutes routes;
  private final List<Upstream> upstreams = new ArrayList<>();

  @BeforeEach
  void start() {
    n = PrivateNginx.start();
    routes = new NginxRoutes(n.nginx);
  }

  @AfterEach
  void stop() {
    routes.close();
    upstreams.forEach(Upstream::close);
    n.close();
  }

  private Upstream upstream(String name) {
    Upstream u = new Upstream(name);
    upstreams.add(u);
    return u;
  }

  private static RouteSpec spec(String label, String address, int port) {
    return new RouteSpec("req-" + label, "user-" + label, label, label + "." + DOMAIN, address, port);
  }

  private static RouteSpec spec(String label, Upstream u) {
    return spec(label, "127.0.0.1", u.port());
  }

  private GatewayClient.Answer get(String label) throws IOException {
    return GatewayClient.get(n.gateway(), label + "." + DOMAIN, "/", T);
  }

  private void assertServedBy(String label, Upstream u) throws IOException {
    GatewayClient.Answer a = get(label);
    assertEquals(200, a.status());
    assertEquals("upstream " + u.name, a.body());
    assertEquals(label, a.header("X-Berth-Route"));
  }

  private void assertNotRouted(String label) throws IOException {
    GatewayClient.Answer a = get(label);
    assertEquals(404, a.status());
    assertEquals(NginxProcess.NOT_FOUND_BODY, a.body());
    assertNull(a.header("X-Berth-Route"));
  }

  private Path file(String label) {
    return n.nginx.routesDir().resolve(label + ".conf");
  }

  @Test
  void routedLabelReachesItsUpstreamAndUnrouteGives404() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("alice-1a2b3c4d", a));
    assertServedBy("alice-1a2b3c4d", a);
    assertEquals(List.of("alice-1a2b3c4d"), routes.routedLabels());

    routes.unrouteWorkspace(spec("alice-1a2b3c4d", a));
    assertNotRouted("alice-1a2b3c4d");
    assertEquals(List.of(), routes.routedLabels());
    routes.unrouteWorkspace(spec("alice-1a2b3c4d", a));
  }

  @Test
  void proxyHeadersAndWebSocketUpgradeReachTheUpstream() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    String host = "ann." + DOMAIN;
    GatewayClient.Answer plain = GatewayClient.get(n.gateway().connectHost(), n.gateway().port(), host, "/echo", T);
    assertTrue(plain.body().contains("host=" + host + "\n"), plain.body());
    assertTrue(plain.body().contains("connection=close\n"), plain.body());
    assertTrue(plain.body().contains("x-forwarded-for=127.0.0.1\n"), plain.body());
    assertTrue(plain.body().contains("x-forwarded-proto=http\n"), plain.body());
    assertTrue(plain.body().contains("x-forwarded-host=" + host + "\n"), plain.body());

    GatewayClient.Answer upgrade = GatewayClient.get(n.gateway().connectHost(), n.gateway().port(), host, "/echo", T,
        java.util.Map.of("Upgrade", "websocket"));
    assertTrue(upgrade.body().contains("upgrade=websocket\n"), upgrade.body());
    assertTrue(upgrade.body().contains("connection=upgrade\n"), upgrade.body());
  }

  @Test
  void upstreamHostModeSendsTheWorkspacesOwnAddressAsHostAndKeepsTheBrowsersNameForwarded() throws IOException {
    routes.close();
    routes = new NginxRoutes(n.nginx, WorkspaceAuth.none(), UpstreamHost.UPSTREAM);
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    String browserHost = "ann." + DOMAIN + ":" + n.gateway().port();
    GatewayClient.Answer echo = GatewayClient.get(n.gateway().connectHost(), n.gateway().port(), browserHost, "/echo", T);
    assertEquals(200, echo.status(), echo.body());
    assertTrue(echo.body().contains("host=127.0.0.1:" + a.port() + "\n"), echo.body());
    // With the port, as the browser's Origin has it: code-server compares the two.
    assertTrue(echo.body().contains("x-forwarded-host=" + browserHost + "\n"), echo.body());
  }

  @Test
  void upstreamHostComesFromConfigurationWords() {
    assertEquals(UpstreamHost.CLIENT, UpstreamHost.fromConfig(null, UpstreamHost.CLIENT));
    assertEquals(UpstreamHost.UPSTREAM, UpstreamHost.fromConfig(" Upstream ", UpstreamHost.CLIENT));
    assertEquals(UpstreamHost.CLIENT, UpstreamHost.fromConfig("client", UpstreamHost.UPSTREAM));
    assertThrows(IllegalArgumentException.class, () -> UpstreamHost.fromConfig("$host", UpstreamHost.CLIENT));
  }

  @Test
  void twoLabelsReachTwoUpstreams() throws IOException {
    Upstream a = upstream("a");
    Upstream b = upstream("b");
    routes.routeWorkspace(spec("ann", a));
    routes.routeWorkspace(spec("bob", b));
    assertServedBy("ann", a);
    assertServedBy("bob", b);
    assertNotRouted("carl");
  }

  @Test
  void routingAgainMovesTheLabelToTheNewUpstream() throws IOException {
    Upstream a = upstream("a");
    Upstream b = upstream("b");
    routes.routeWorkspace(spec("ann", a));
    routes.routeWorkspace(spec("ann", b));
    for (int i = 0; i < 10; i++) {
      assertServedBy("ann", b);
    }
  }

  @Test
  void routeServesAtOnceEvenWhileTheUpstreamIsDown() throws IOException {
    Upstream a = upstream("a");
    int port = a.port();
    a.close();
    routes.routeWorkspace(spec("ann", "127.0.0.1", port));
    GatewayClient.Answer answer = get("ann");
    assertEquals(502, answer.status());
    assertEquals("ann", answer.header("X-Berth-Route"));
  }

  @Test
  void concurrentRoutesShareReloads() throws Exception {
    Upstream a = upstream("a");
    int count = 20;
    long reloadsBefore = routes.health().reloads();
    ExecutorService pool = Executors.newFixedThreadPool(count);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String label = "user-" + i;
        calls.add(CompletableFuture.runAsync(() -> {
          awaitLatch(go);
          routes.routeWorkspace(spec(label, a));
        }, pool));
      }
      go.countDown();
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < count; i++) {
      assertServedBy("user-" + i, a);
    }
    long reloads = routes.health().reloads() - reloadsBefore;
    System.out.println(count + " concurrent routes took " + reloads + " reloads");
    assertTrue(reloads < count, "expected batched reloads, got " + reloads + " for " + count + " routes");
    assertEquals(count, routes.routedLabels().size());
  }

  @Test
  void aRouteNginxRejectsIsRolledBackAndOthersKeepServing() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    ApplicationFailure f = assertThrows(ApplicationFailure.class,
        () -> routes.routeWorkspace(spec("bad", "no-such-host.invalid", 80)));
    assertEquals("RouteRejected", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("host not found"), f.getOriginalMessage());
    assertFalse(Files.exists(file("bad")));
    assertServedBy("ann", a);
    assertNotRouted("bad");
    assertEquals(1, routes.health().reloadFailures());
    assertTrue(routes.health().lastError().contains("host not found"));
  }

  @Test
  void aRejectedRerouteRestoresThePreviousFile() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    String before = Files.readString(file("ann"));
    assertThrows(ApplicationFailure.class, () -> routes.routeWorkspace(spec("ann", "no-such-host.invalid", 80)));
    assertEquals(before, Files.readString(file("ann")));
    assertServedBy("ann", a);
  }

  @Test
  void inABatchOnlyTheBadRouteFails() throws Exception {
    Upstream a = upstream("a");
    // A long window makes sure the five calls land in one batch.
    routes.close();
    routes = new NginxRoutes(n.nginx, Duration.ofSeconds(1), NginxRoutes.DEFAULT_SERVE_BOUND);
    long reloadsBefore = routes.health().reloads();
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try {
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (String label : List.of("g1", "g2", "bad", "g3", "g4")) {
        RouteSpec s = label.equals("bad") ? spec("bad", "no-such-host.invalid", 80) : spec(label, a);
        calls.add(CompletableFuture.runAsync(() -> routes.routeWorkspace(s), pool));
      }
      for (int i = 0; i < calls.size(); i++) {
        if (i == 2) {
          Exception e = assertThrows(Exception.class, () -> calls.get(2).get(30, TimeUnit.SECONDS));
          ApplicationFailure f = (ApplicationFailure) e.getCause();
          assertEquals("RouteRejected", f.getType());
        } else {
          calls.get(i).get(30, TimeUnit.SECONDS);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    for (String label : List.of("g1", "g2", "g3", "g4")) {
      assertServedBy(label, a);
    }
    assertFalse(Files.exists(file("bad")));
    assertEquals(1, routes.health().reloads() - reloadsBefore);
  }

  @Test
  void aBrokenForeignFileFailsRetryablyWithoutLeavingOurFile() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    Path broken = n.nginx.routesDir().resolve("zz-broken.conf");
    Files.writeString(broken, "include /nonexistent/berth-test.conf;\n");

    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> routes.routeWorkspace(spec("bob", a)));
    assertEquals("NginxConfigBroken", f.getType());
    assertFalse(f.isNonRetryable());
    assertFalse(Files.exists(file("bob")));
    assertServedBy("ann", a);

    Files.delete(broken);
    routes.routeWorkspace(spec("bob", a));
    assertServedBy("bob", a);
  }

  @Test
  void injectionAttemptsAreRejectedBeforeAnyFileIsWritten() throws IOException {
    Upstream a = upstream("a");
    Set<Path> before = filesUnder(n.base);
    List<RouteSpec> attempts = new ArrayList<>();
    for (String label : List.of("../x", "..", "a/b", "a;b", "a{", "a}", "a\nb", "a b", "A", "-a", "a-", "",
        "a".repeat(300), "a".repeat(64), "a$b", "a.b")) {
      attempts.add(new RouteSpec("r", "u", label, label + "." + DOMAIN, "127.0.0.1", a.port()));
    }
    attempts.add(new RouteSpec("r", "u", null, "x." + DOMAIN, "127.0.0.1", a.port()));
    for (String host : List.of("ann.berth.localhost}", "ann.berth.localhost;", "ann.berth .localhost",
        "ann.berth.localhost\n", "bob.berth.localhost", "ann.", "ann", "ann.Berth.localhost", "ann.a..b",
        "ann.1.2.3.4", "ann." + "b".repeat(250))) {
      attempts.add(new RouteSpec("r", "u", "ann", host, "127.0.0.1", a.port()));
    }
    for (String upstream : List.of("127.0.0.1;", "127.0.0.1 backup", "http://127.0.0.1", "[::1]", "256.1.1.1",
        "127.0.0.1:80", "unix:/tmp/x.sock", "host}", "", "::1%lo")) {
      attempts.add(new RouteSpec("r", "u", "ann", "ann." + DOMAIN, upstream, a.port()));
    }
    attempts.add(new RouteSpec("r", "u", "ann", "ann." + DOMAIN, null, a.port()));
    attempts.add(spec("ann", "127.0.0.1", 0));
    attempts.add(spec("ann", "127.0.0.1", 65536));
    attempts.add(spec("ann", "127.0.0.1", -1));

    for (RouteSpec s : attempts) {
      assertInvalid(() -> routes.routeWorkspace(s), s);
    }
    assertInvalid(() -> routes.unrouteWorkspace(new RouteSpec("r", "u", "../x", "x." + DOMAIN, null, 0)), null);
    assertInvalid(() -> routes.routeWorkspace(null), null);
    assertEquals(before, filesUnder(n.base));
    assertEquals(List.of(), routes.routedLabels());
    assertEquals(0, routes.health().reloads());
  }

  @Test
  void ipv6AndHostnameUpstreamsAreAccepted() {
    // No need to answer: the route serves (with a 502) as soon as nginx accepts the file.
    routes.routeWorkspace(spec("six", "::1", 9));
    routes.routeWorkspace(spec("named", "localhost", 9));
    assertEquals(List.of("named", "six"), routes.routedLabels());
  }

  private static void assertInvalid(Executable call, RouteSpec s) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call, String.valueOf(s));
    assertEquals("InvalidInput", f.getType(), String.valueOf(s));
    assertTrue(f.isNonRetryable());
  }

  private static Set<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> !p.toString().contains("/logs/")).collect(Collectors.toSet());
    }
  }

  @Test
  void unrouteOfAnUnknownLabelIsANoOp() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    long reloads = routes.health().reloads();
    routes.unrouteWorkspace(spec("ghost", a));
    routes.unrouteWorkspace(new RouteSpec("r", "u", "ghost", "ghost." + DOMAIN, null, 0));
    assertEquals(reloads, routes.health().reloads());
    assertServedBy("ann", a);
  }

  @Test
  void withNginxStoppedRouteFailsRetryablyAndUnrouteStillRemovesTheFile() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    n.nginx.stop();

    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> routes.routeWorkspace(spec("bob", a)));
    assertEquals("NginxUnavailable", f.getType());
    assertFalse(f.isNonRetryable());
    assertFalse(Files.exists(file("bob")));
    assertFalse(routes.health().nginxRunning());

    routes.unrouteWorkspace(spec("ann", a));
    assertFalse(Files.exists(file("ann")));

    n.nginx.start();
    assertNotRouted("ann");
    routes.routeWorkspace(spec("bob", a));
    assertServedBy("bob", a);
  }

  @Test
  void unrouteReloadsWhenNginxStillServesARouteWhoseFileIsGone() throws IOException {
    Upstream a = upstream("a");
    routes.routeWorkspace(spec("ann", a));
    Files.delete(file("ann"));
    assertServedBy("ann", a);
    routes.unrouteWorkspace(spec("ann", a));
    assertNotRouted("ann");
  }

  @Test
  void externalModeWritesIntoTheRoutesDirAndRunsTheReloadCommand() throws IOException {
    Upstream a = upstream("a");
    String bin = NginxProcess.defaultBinary();
    List<String> base = List.of(bin, "-p", n.prefix + "/", "-c", n.prefix.resolve("conf/nginx.conf").toString(),
        "-e", n.prefix.resolve("logs/error.log").toString());
    List<String> test = new ArrayList<>(base);
    test.add("-t");
    List<String> reload = new ArrayList<>(base);
    reload.addAll(List.of("-s", "reload"));
    NginxProcess external = NginxProcess.external(n.nginx.routesDir(), n.gateway().listen(), test, reload,
        n.prefix.resolve("logs/nginx.pid"));
    try (NginxRoutes ext = new NginxRoutes(external)) {
      assertTrue(external.isRunning());
      ext.routeWorkspace(spec("ext", a));
      assertServedBy("ext", a);
      ext.unrouteWorkspace(spec("ext", a));
      assertNotRouted("ext");
      external.close();
      assertTrue(n.nginx.isRunning(), "closing an external nginx must not stop it");
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
