package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.activities.routing.Gateway;
import io.berth.activities.routing.GatewayClient;
import io.berth.activities.routing.NginxProcess;
import io.berth.activities.routing.NginxRoutes;
import io.berth.api.Application;
import io.berth.testkit.Await;
import io.berth.testkit.FreePorts;
import io.berth.worker.Main;
import io.berth.worker.WorkerConfig;
import io.berth.workflows.GatewayToken;
import io.berth.workflows.SearchAttributes;
import io.berth.workflows.model.RouteSpec;
import io.temporal.common.SearchAttributeKey;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml, the two Dockerfiles and docker/nginx/nginx.conf, checked against the code
 * they deploy (no Docker engine runs here): the BERTH_* names each service gets are names the
 * code reads, required settings and ports agree across services, every image is pinned, and the
 * compose Nginx config serves a route written the way the worker writes it (real Nginx).
 */
class ComposeFileTest {
  /** name:tag with a tag of at least major.minor; no digest-less floating tags such as latest or 16. */
  private static final Pattern PINNED = Pattern.compile("[a-z0-9][a-z0-9._/-]*:\\d+\\.\\d+[A-Za-z0-9._-]*");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(BERTH_[A-Z0-9_]+)");
  private static final Pattern COMPOSE_VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");
  private static final String ROUTES_VOLUME = "routes";
  private static final String PID_VOLUME = "nginx-run";
  private static final String NGINX_CONF_IN_CONTAINER = "/etc/nginx/nginx.conf";
  private static final String TEMPLATES_IN_CONTAINER = "/etc/nginx/templates";
  private static final Pattern TEMPLATE_VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  private static Path root;
  private static Map<String, Object> compose;
  private static Map<String, Object> services;

  @BeforeAll
  static void load() throws IOException {
    root = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
    Path file = root.resolve("docker-compose.yml");
    assertTrue(Files.isRegularFile(file), "docker-compose.yml at the repository root " + root);
    compose = new Yaml().load(Files.readString(file));
    services = map(compose.get("services"), "services");
  }

  @Test
  void theStackHasItsServices() {
    for (String s : List.of("postgresql", "temporal", "temporal-ui", "temporal-admin-tools", "redis", "nginx",
        "worker", "api")) {
      assertTrue(services.containsKey(s), "service " + s + " in " + services.keySet());
    }
    services.forEach((name, s) -> assertTrue(map(s, name).containsKey("image") || map(s, name).containsKey("build"),
        name + " has an image or a build"));
  }

  @Test
  void everyImageIsPinnedToAnExactVersion() {
    services.forEach((name, s) -> {
      Object image = map(s, name).get("image");
      if (image != null) {
        assertPinned(image.toString(), "service " + name);
      }
    });
    assertFalse(PINNED.matcher("redis:latest").matches());
    assertFalse(PINNED.matcher("postgres:16").matches());
    assertTrue(PINNED.matcher("temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0").matches());
  }

  @Test
  void workerAndApiBuildFromTheirDockerfiles() {
    for (String s : List.of("worker", "api")) {
      Path dockerfile = dockerfile(s);
      assertEquals(root.resolve("docker/" + s + ".Dockerfile"), dockerfile);
      assertTrue(Files.isRegularFile(dockerfile), dockerfile + " exists");
      assertFalse(service(s).containsKey("image"), s + " is built here, not pulled");
    }
  }

  @Test
  void dockerfilesArePinnedRunAsNonRootAndStartClassesThatExist() throws Exception {
    Map<String, String> mainClasses = Map.of("worker", Main.class.getName(), "api", Application.class.getName());
    for (String s : List.of("worker", "api")) {
      List<String> lines = Files.readAllLines(dockerfile(s));
      List<String> froms = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
      assertEquals(2, froms.size(), s + ": a build stage and a runtime stage");
      froms.forEach(f -> assertPinned(f.split("\\s+")[1], s + " Dockerfile " + f));
      String text = String.join("\n", lines);
      assertTrue(text.contains("mvn -B -DskipTests package -pl " + s + " -am"), s + " builds its module");
      String user = lastValue(lines, "USER ");
      assertNotNull(user, s + " sets a USER");
      assertFalse(user.equals("root") || user.startsWith("0"), s + " runs as non-root, not " + user);

      List<String> entry = jsonArray(lastValue(lines, "ENTRYPOINT "));
      String mainClass = entry.get(entry.size() - 1);
      assertEquals(mainClasses.get(s), mainClass);
      Method main = Class.forName(mainClass).getMethod("main", String[].class);
      assertTrue(Modifier.isStatic(main.getModifiers()) && Modifier.isPublic(main.getModifiers()));
      String classpath = entry.get(entry.indexOf("-cp") + 1);
      assertEquals("/opt/berth/berth-" + s + ".jar:/opt/berth/lib/*", classpath);
      assertTrue(text.contains("COPY --from=build /build/" + s + "/target/lib/ /opt/berth/lib/"), s + " copies its lib");
      assertTrue(text.contains("COPY --from=build /build/" + s + "/target/berth-" + s + "-*.jar /opt/berth/berth-" + s
          + ".jar"), s + " copies its jar");
      lines.stream().filter(l -> l.startsWith("COPY docker/")).map(l -> l.split("\\s+")[1]).forEach(src ->
          assertTrue(Files.isRegularFile(root.resolve(src)), s + " Dockerfile copies " + src + ", which exists"));
      for (String env : dockerfileEnvNames(lines)) {
        if (s.equals("worker")) {
          assertTrue(namesWorkerConfigReads(Map.of()).contains(env), "worker image ENV " + env + " is read");
        } else {
          assertTrue(apiPlaceholders().contains(env), "api image ENV " + env + " is in application.yml");
        }
      }
    }
    String api = Files.readString(dockerfile("api"));
    assertTrue(api.contains("HEALTHCHECK ") && api.contains("/health"), "the api image checks /health");
  }

  @Test
  void workerGetsOnlyNamesWorkerConfigReadsAndWhatItNeeds() throws IOException {
    Map<String, String> env = resolved(environment("worker"));
    Set<String> unread = new TreeSet<>(berthNames(environment("worker")));
    unread.removeAll(namesWorkerConfigReads(env));
    assertEquals(Set.of(), unread, "BERTH_* names given to the worker that WorkerConfig.fromEnv never reads");

    WorkerConfig c = WorkerConfig.fromEnv(env);
    assertEquals("temporal:7233", c.temporalTarget());
    assertFalse(c.embeddedTemporal());
    assertEquals("redis", URI.create(c.redisUrl()).getHost());
    assertEquals("external", env.get("BERTH_NGINX_MODE"));
    assertFalse(c.nginxEmbedded());
    assertEquals("local", c.provider(), "compose defaults to the local provider");
    assertEquals(Path.of(volumeTarget("nginx", ROUTES_VOLUME)), c.nginxRoutesDir(),
        "the worker writes routes where nginx reads them");
    assertEquals(volumeTarget("nginx", ROUTES_VOLUME), volumeTarget("worker", ROUTES_VOLUME));
    assertEquals(volumeTarget("nginx", PID_VOLUME), volumeTarget("worker", PID_VOLUME));

    // nginx -t and nginx -s reload in the worker read /etc/nginx/nginx.conf: the gateway's own file
    assertEquals(bindSource("nginx", NGINX_CONF_IN_CONTAINER), bindSource("worker", NGINX_CONF_IN_CONTAINER));
    assertEquals("/usr/sbin/nginx", c.nginxBin());
    assertEquals(List.of("/usr/sbin/nginx", "-s", "reload"), List.of(c.nginxReloadCommand().split(" ")));
    assertTrue(Files.readString(dockerfile("worker")).contains("install -y --no-install-recommends nginx"),
        "the worker image has the nginx binary for nginx -t and -s reload");

    // the route checks go to 127.0.0.1:<gateway port>, local workspaces listen on 127.0.0.1, and the
    // reload signals nginx's master: one network and pid namespace, one uid
    assertEquals("service:nginx", service("worker").get("network_mode"));
    assertEquals("service:nginx", service("worker").get("pid"));
    String uid = Files.readString(dockerfile("worker")).replaceAll("(?s).*useradd --uid (\\d+) .*", "$1");
    assertEquals(uid + ":" + uid, service("nginx").get("user"), "nginx runs as the worker's uid");
    assertEquals(List.of("chown", uid + ":" + uid, volumeTarget("nginx-volumes", ROUTES_VOLUME),
        volumeTarget("nginx-volumes", PID_VOLUME)), service("nginx-volumes").get("entrypoint"));

    Gateway gateway = Gateway.parse(c.gatewayListen());
    assertEquals("*", gateway.host(), "routes listen on every address, like the default server");
    assertEquals(gateway.port(), nginxListenPort());
    assertEquals(URI.create("http://api:" + resolved(environment("api")).get("BERTH_API_PORT")),
        URI.create(c.apiUrl()), "workspaces heartbeat to the api service");
  }

  @Test
  void apiGetsOnlyNamesItsApplicationYmlReadsAndWhatItNeeds() throws IOException {
    Map<String, String> raw = environment("api");
    Map<String, String> env = resolved(raw);
    Set<String> unread = new TreeSet<>(berthNames(raw));
    unread.removeAll(apiPlaceholders());
    assertEquals(Set.of(), unread, "BERTH_* names given to the api that application.yml has no ${...} for");

    assertEquals("temporal:7233", env.get("BERTH_TEMPORAL_TARGET"));
    assertEquals("redis", URI.create(env.get("BERTH_REDIS_URL")).getHost());
    assertEquals("0.0.0.0", env.get("BERTH_API_HOST"));
    assertTrue(raw.get("BERTH_JWT_SECRET").matches("\\$\\{BERTH_JWT_SECRET:\\?[^}]+}"),
        "the JWT secret comes from the shell, required, never from this file: " + raw.get("BERTH_JWT_SECRET"));

    Map<String, String> worker = resolved(environment("worker"));
    for (String shared : List.of("BERTH_TEMPORAL_TARGET", "BERTH_TEMPORAL_NAMESPACE", "BERTH_REDIS_URL",
        "BERTH_REDIS_PREFIX", "BERTH_DOMAIN", "BERTH_TEMPLATE", "BERTH_PROVIDER")) {
      assertNotNull(env.get(shared), "api has " + shared);
      assertEquals(env.get(shared), worker.get(shared), "worker and api agree on " + shared);
    }
  }

  @Test
  void portsArePublishedWhereTheDocsSayTheyAre() {
    String apiPort = resolved(environment("api")).get("BERTH_API_PORT");
    assertEquals(Map.of(8080, Integer.parseInt(apiPort)), ports("api"));
    assertEquals(Map.of(8233, 8080), ports("temporal-ui"));
    assertEquals(Map.of(80, nginxListenPort()), ports("nginx"));
    assertFalse(service("worker").containsKey("ports"), "the worker has nginx's network; nothing to publish");
    assertFalse(service("redis").containsKey("ports"));
    assertFalse(service("postgresql").containsKey("ports"));
  }

  @Test
  void servicesStartInOrder() {
    assertEquals("service_healthy", dependsOn("worker").get("temporal"));
    assertEquals("service_healthy", dependsOn("worker").get("redis"));
    assertEquals("service_completed_successfully", dependsOn("worker").get("temporal-admin-tools"));
    assertTrue(dependsOn("worker").containsKey("nginx"));
    assertTrue(dependsOn("api").containsKey("temporal"));
    assertTrue(dependsOn("api").containsKey("redis"));
    assertEquals("service_healthy", dependsOn("temporal").get("postgresql"));
    assertEquals("service_healthy", dependsOn("temporal-admin-tools").get("temporal"));
    assertEquals("service_completed_successfully", dependsOn("nginx").get("nginx-volumes"));
    for (String s : services.keySet()) {
      dependsOn(s).forEach((target, condition) -> {
        assertTrue(services.containsKey(target), s + " depends on a service that exists: " + target);
        if (condition.equals("service_healthy")) {
          assertTrue(service(target).containsKey("healthcheck"), target + " has the health check " + s + " waits on");
        }
      });
    }
  }

  @Test
  void healthChecksExist() {
    for (String s : List.of("postgresql", "temporal", "redis", "api")) {
      List<String> test = strings(map(service(s).get("healthcheck"), s + ".healthcheck").get("test"));
      assertTrue(test.size() > 1 && !test.get(0).equals("NONE"), s + " has a health check: " + test);
    }
    String apiCheck = String.join(" ", strings(map(service("api").get("healthcheck"), "api").get("test")));
    assertTrue(apiCheck.contains("http://127.0.0.1:" + resolved(environment("api")).get("BERTH_API_PORT") + "/health"),
        apiCheck);
    assertTrue(String.join(" ", strings(map(service("redis").get("healthcheck"), "redis").get("test")))
        .contains("redis-cli ping"));
    assertTrue(String.join(" ", strings(map(service("temporal").get("healthcheck"), "temporal").get("test")))
        .contains("temporal operator cluster health"));
  }

  @Test
  void temporalRunsOnThePostgresqlService() {
    Map<String, String> env = resolved(environment("temporal"));
    assertEquals("postgres12", env.get("DB"));
    assertEquals("postgresql", env.get("POSTGRES_SEEDS"));
    assertEquals(resolved(environment("postgresql")).get("POSTGRES_USER"), env.get("POSTGRES_USER"));
    assertEquals(resolved(environment("postgresql")).get("POSTGRES_PASSWORD"), env.get("POSTGRES_PWD"));
    assertEquals("temporal:7233", resolved(environment("temporal-ui")).get("TEMPORAL_ADDRESS"));
  }

  @Test
  void theNginxConfigIncludesTheRoutesAndTheUpgradeMap() throws IOException {
    String conf = normalized(Files.readString(nginxConf()));
    assertTrue(conf.contains("include " + volumeTarget("nginx", ROUTES_VOLUME) + "/*.conf;"), "includes the routes");
    assertTrue(conf.contains(normalized(NginxProcess.HTTP_COMMON)), "defines $berth_connection_upgrade");
    assertTrue(conf.contains("pid " + volumeTarget("nginx", PID_VOLUME) + "/nginx.pid;"),
        "the pid file is on the volume the worker's nginx -s reload reads");
    assertFalse(conf.matches("(?s).*(^|[;{}] )user .*"), "no user directive: the master runs as the container's uid");
    assertTrue(nginxListenPort() > 1024, "a non-root master cannot bind a port below 1024");
  }

  /**
   * Dynamic routing's server is a template the nginx image renders at start: into the volume
   * nginx.conf includes, replacing only BERTH_* names that the nginx service defines.
   */
  @Test
  void theDynamicServerTemplateIsRenderedWhereNginxConfIncludesIt() throws IOException {
    assertEquals(root.resolve("docker/nginx/templates"), bindSource("nginx", TEMPLATES_IN_CONTAINER));
    Map<String, String> env = resolved(environment("nginx"));
    assertEquals(volumeTarget("nginx", PID_VOLUME), env.get("NGINX_ENVSUBST_OUTPUT_DIR"));
    assertEquals("^BERTH_", env.get("NGINX_ENVSUBST_FILTER"), "nginx's own $variables are left alone");
    String conf = normalized(Files.readString(nginxConf()));
    assertTrue(conf.contains("include " + env.get("NGINX_ENVSUBST_OUTPUT_DIR") + "/*.conf;"), conf);
    Matcher m = TEMPLATE_VAR.matcher(Files.readString(gatewayTemplate()));
    Set<String> used = new TreeSet<>();
    while (m.find()) {
      used.add(m.group(1));
    }
    assertEquals(Set.of("BERTH_DASHBOARD_URL", GatewayToken.ENV), used);
    used.forEach(v -> assertNotNull(env.get(v), "the nginx service defines " + v));
    Map<String, String> worker = resolved(environment("worker"));
    URI api = URI.create(worker.get("BERTH_API_URL"));
    assertTrue(Files.readString(gatewayTemplate()).contains("server " + api.getHost() + ":" + api.getPort() + ";"),
        "nginx asks the api the worker names: " + api);
    assertEquals(worker.get("BERTH_DASHBOARD_URL"), env.get("BERTH_DASHBOARD_URL"));
    assertEquals("dynamic", resolved(environment("api")).get("BERTH_ROUTING"));
    assertEquals("dynamic", WorkerConfig.fromEnv(worker).routing());
  }

  @Test
  void theSearchAttributeServiceCreatesExactlyTheWorkflowsAttributes() {
    String script = String.join("\n", strings(service("temporal-admin-tools").get("entrypoint")));
    Matcher m = Pattern.compile("search-attribute create (.*)").matcher(script);
    List<String> created = new ArrayList<>();
    while (m.find()) {
      String args = m.group(1);
      assertTrue(args.contains("--type Keyword"), "keyword attribute: " + args);
      Matcher name = Pattern.compile("--name (\\S+)").matcher(args);
      assertTrue(name.find(), args);
      created.add(name.group(1));
    }
    List<String> expected = SearchAttributes.ALL.stream().map(SearchAttributeKey::getName).toList();
    assertEquals(new TreeSet<>(expected), new TreeSet<>(created));
    assertEquals(expected.size(), created.size(), "each created once: " + created);
    expected.forEach(n -> assertTrue(script.contains("grep -qw " + n + " "), "verifies " + n + " exists"));
    assertEquals("no", service("temporal-admin-tools").get("restart"), "a one-shot");
  }

  /**
   * The compose nginx.conf, with its paths moved into a temp dir and a free port, run by the real
   * Nginx; the worker's external mode (its test and reload commands with -c added) routes a
   * workspace through it and takes the route away again.
   */
  @Test
  void theComposeNginxConfigServesARouteTheWayTheWorkerWritesIt(@TempDir Path tmp) throws Exception {
    WorkerConfig c = WorkerConfig.fromEnv(resolved(environment("worker")));
    int port = FreePorts.next();
    Path routes = Files.createDirectories(tmp.resolve("routes"));
    Path run = Files.createDirectories(tmp.resolve("run"));
    Path temp = Files.createDirectories(tmp.resolve("temp"));
    String conf = Files.readString(nginxConf());
    // /tmp first: the temp dir of this test is under /tmp too
    conf = replaceOnce(conf, " /tmp/", " " + temp + "/");
    conf = replaceOnce(conf, volumeTarget("nginx", ROUTES_VOLUME) + "/", routes + "/");
    conf = replaceOnce(conf, volumeTarget("nginx", PID_VOLUME) + "/", run + "/");
    conf = replaceOnce(conf, "listen " + nginxListenPort() + " ", "listen " + port + " ");
    Path confFile = tmp.resolve("nginx.conf");
    Files.writeString(confFile, conf);
    // What the image's envsubst step makes of the dynamic server, with a stand-in api.
    HttpServer api = standInApi();
    Map<String, String> nginxEnv = new LinkedHashMap<>(resolved(environment("nginx")));
    // Required from the shell in compose (no default to resolve): the test's own, which the stand-in api wants.
    assertTrue(nginxEnv.get(GatewayToken.ENV).startsWith("${" + GatewayToken.ENV + ":?"), nginxEnv.get(GatewayToken.ENV));
    assertEquals(environment("nginx").get(GatewayToken.ENV), environment("api").get(GatewayToken.ENV),
        "nginx and the api get the same gateway token");
    nginxEnv.put(GatewayToken.ENV, STAND_IN_TOKEN);
    URI apiUrl = URI.create(c.apiUrl());
    String gateway = Files.readString(gatewayTemplate());
    gateway = replaceOnce(gateway, "listen " + nginxListenPort() + ";", "listen " + port + ";");
    gateway = replaceOnce(gateway, "server " + apiUrl.getHost() + ":" + apiUrl.getPort() + ";",
        "server 127.0.0.1:" + api.getAddress().getPort() + ";");
    Matcher vars = TEMPLATE_VAR.matcher(gateway);
    StringBuilder rendered = new StringBuilder();
    while (vars.find()) {
      vars.appendReplacement(rendered, Matcher.quoteReplacement(nginxEnv.get(vars.group(1))));
    }
    vars.appendTail(rendered);
    Files.writeString(run.resolve("berth-gateway.conf"), rendered.toString());

    List<String> test = List.of(c.nginxBin(), "-c", confFile.toString(), "-t");
    List<String> reload = new ArrayList<>(List.of(c.nginxReloadCommand().split(" ")));
    reload.addAll(1, List.of("-c", confFile.toString()));
    Process nginx = new ProcessBuilder(c.nginxBin(), "-c", confFile.toString(), "-g", "daemon off;")
        .redirectErrorStream(true).redirectOutput(tmp.resolve("nginx.out").toFile()).start();
    HttpServer workspace = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    workspace.createContext("/", ex -> {
      byte[] body = "hello from the workspace".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    workspace.start();
    workspacePort = workspace.getAddress().getPort();
    try {
      Await.until("nginx answers on " + port, Duration.ofSeconds(10), () -> {
        assertTrue(nginx.isAlive(), () -> "nginx exited: " + read(tmp.resolve("nginx.out")));
        return answer(port, "nobody." + c.domain()).status() == 404;
      });
      assertEquals(NginxProcess.NOT_FOUND_BODY, answer(port, "nobody." + c.domain()).body());

      String listen = c.gatewayListen().replaceAll(":\\d+$", ":" + port);
      NginxProcess external = NginxProcess.external(routes, listen, test, reload, null);
      assertTrue(external.test().ok(), external.test().output());
      String label = "alice-1";
      RouteSpec spec = new RouteSpec("req-1", "alice", label, label + "." + c.domain(), "127.0.0.1",
          workspace.getAddress().getPort());
      try (NginxRoutes r = new NginxRoutes(external)) {
        r.routeWorkspace(spec);
        GatewayClient.Answer a = answer(port, spec.hostname());
        assertEquals(200, a.status(), a.body() + " " + read(tmp.resolve("nginx.out")));
        assertEquals("hello from the workspace", a.body());
        r.unrouteWorkspace(spec);
        assertEquals(404, answer(port, spec.hostname()).status());
      }

      // Dynamic routing: no file, the api's answer routes bob; carol has a route but no cookie.
      GatewayClient.Answer bob = answer(port, "bob-1." + c.domain());
      assertEquals(200, bob.status(), bob.body() + " " + read(tmp.resolve("nginx.out")));
      assertEquals("hello from the workspace", bob.body());
      assertEquals("bob-1", bob.header("X-Berth-Route"));
      GatewayClient.Answer check = GatewayClient.get("127.0.0.1", port, "bob-1." + c.domain(), "/.berth/route",
          Duration.ofSeconds(2));
      assertEquals(204, check.status());
      assertEquals("bob-1", check.header("X-Berth-Route"));
      GatewayClient.Answer carol = answer(port, "carol-1." + c.domain());
      assertEquals(302, carol.status());
      assertEquals(c.dashboardUrl() + "?ws=carol-1", carol.header("Location"));
      GatewayClient.Answer nobody = answer(port, "nobody-1." + c.domain());
      assertEquals(404, nobody.status());
      assertEquals(NginxProcess.NOT_FOUND_BODY, nobody.body());
    } finally {
      workspace.stop(0);
      api.stop(0);
      stop(nginx);
    }
  }

  private static volatile int workspacePort;
  private static final String STAND_IN_TOKEN = "compose-test-gateway-token-0123456789abcdef";

  /** As GatewayOnlyFilter does: no token, 403 (which the dynamic server turns into 404). */
  private static boolean fromTheGateway(com.sun.net.httpserver.HttpExchange ex) throws IOException {
    if (STAND_IN_TOKEN.equals(ex.getRequestHeaders().getFirst(GatewayToken.HEADER))) {
      return true;
    }
    ex.sendResponseHeaders(403, -1);
    ex.close();
    return false;
  }

  /**
   * The api's gateway answers for the dynamic server: bob-1 is routed to the test's workspace,
   * carol-1 is routed but the request has no cookie (401), anything else has no route (403/404).
   */
  private static HttpServer standInApi() throws IOException {
    HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    api.createContext("/api/gateway/auth", ex -> {
      if (!fromTheGateway(ex)) {
        return;
      }
      String label = ex.getRequestHeaders().getFirst("Host").split("\\.")[0];
      boolean asked = "dynamic".equals(ex.getRequestHeaders().getFirst("X-Berth-Routing"));
      if (asked && label.equals("bob-1")) {
        ex.getResponseHeaders().set("X-Berth-Upstream", "127.0.0.1:" + workspacePort);
        ex.getResponseHeaders().set("X-Berth-Route", label);
        ex.sendResponseHeaders(204, -1);
      } else if (asked && label.equals("carol-1")) {
        ex.getResponseHeaders().set("X-Berth-Route", label);
        ex.sendResponseHeaders(401, -1);
      } else {
        ex.sendResponseHeaders(403, -1);
      }
      ex.close();
    });
    // No route: the api's answer to a client without a workspace cookie (the owner's page is the api's own test).
    api.createContext("/api/gateway/gone", ex -> {
      byte[] body = NginxProcess.NOT_FOUND_BODY.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ex.sendResponseHeaders("GET".equals(ex.getRequestMethod()) ? 404 : 405, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    api.createContext("/api/gateway/route", ex -> {
      if (!fromTheGateway(ex)) {
        return;
      }
      String label = ex.getRequestHeaders().getFirst("Host").split("\\.")[0];
      if (label.equals("bob-1") || label.equals("carol-1")) {
        ex.getResponseHeaders().set("X-Berth-Route", label);
        ex.sendResponseHeaders(204, -1);
      } else {
        ex.sendResponseHeaders(404, -1);
      }
      ex.close();
    });
    api.start();
    return api;
  }

  private static Path gatewayTemplate() {
    Path t = root.resolve("docker/nginx/templates/berth-gateway.conf.template");
    assertTrue(Files.isRegularFile(t), t + " exists");
    return t;
  }

  // ---- compose file access

  private static Map<String, Object> service(String name) {
    assertTrue(services.containsKey(name), "service " + name);
    return map(services.get(name), name);
  }

  /** The service's environment (map or KEY=VALUE list form); a key without value is a pass-through. */
  private static Map<String, String> environment(String name) {
    Object env = service(name).get("environment");
    Map<String, String> out = new LinkedHashMap<>();
    if (env instanceof Map<?, ?> m) {
      m.forEach((k, v) -> out.put(k.toString(), v == null ? null : v.toString()));
    } else if (env instanceof List<?> l) {
      for (Object e : l) {
        String[] kv = e.toString().split("=", 2);
        out.put(kv[0], kv.length > 1 ? kv[1] : null);
      }
    }
    return out;
  }

  /**
   * Compose interpolation as with an empty shell environment: {@code ${X:-d}} is d, {@code ${X}} is
   * empty, {@code ${X:?msg}} stays as written (a required value), a pass-through stays unset.
   */
  private static Map<String, String> resolved(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>();
    env.forEach((k, v) -> {
      if (v == null) {
        return;
      }
      Matcher m = COMPOSE_VAR.matcher(v);
      StringBuilder sb = new StringBuilder();
      while (m.find()) {
        String op = m.group(2);
        String replacement = op == null ? "" : op.endsWith("?") ? m.group(0) : m.group(3);
        m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
      }
      m.appendTail(sb);
      out.put(k, sb.toString().replace("$$", "$"));
    });
    return out;
  }

  private static Set<String> berthNames(Map<String, String> env) {
    return env.keySet().stream().filter(k -> k.startsWith("BERTH_")).collect(Collectors.toCollection(TreeSet::new));
  }

  /** Every name {@link WorkerConfig#fromEnv} looks up, found by handing it a map that records lookups. */
  private static Set<String> namesWorkerConfigReads(Map<String, String> env) {
    RecordingEnv recording = new RecordingEnv(env);
    WorkerConfig.fromEnv(recording);
    assertTrue(recording.read.contains("BERTH_TEMPORAL_TARGET"), "recording sees the lookups");
    return recording.read;
  }

  /** The api's application.yml, read from the api module on the classpath. */
  private static Set<String> apiPlaceholders() {
    try {
      String apiLocation = Application.class.getProtectionDomain().getCodeSource().getLocation().getPath();
      URL yml = Collections.list(Application.class.getClassLoader().getResources("application.yml")).stream()
          .filter(u -> u.toString().contains(apiLocation))
          .findFirst()
          .orElseThrow(() -> new AssertionError("application.yml of the api module (" + apiLocation + ")"));
      try (InputStream in = yml.openStream()) {
        Matcher m = PLACEHOLDER.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
          names.add(m.group(1));
        }
        assertTrue(names.contains("BERTH_JWT_SECRET") && names.contains("BERTH_API_HOST"), "read " + yml);
        return names;
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static Path dockerfile(String name) {
    Map<String, Object> build = map(service(name).get("build"), name + ".build");
    Path context = root.resolve(build.get("context").toString()).normalize();
    assertEquals(root, context, name + " builds from the repository root (the Maven reactor)");
    return context.resolve(build.get("dockerfile").toString()).normalize();
  }

  /** Host port → container port. */
  private static Map<Integer, Integer> ports(String name) {
    Map<Integer, Integer> out = new LinkedHashMap<>();
    for (String p : strings(service(name).get("ports"))) {
      String[] parts = p.replaceAll("/tcp$", "").split(":");
      assertTrue(parts.length >= 2, name + " publishes host:container, got " + p);
      out.put(Integer.parseInt(parts[parts.length - 2]), Integer.parseInt(parts[parts.length - 1]));
    }
    return out;
  }

  /** Target service → condition (the short list form means service_started). */
  private static Map<String, String> dependsOn(String name) {
    Object d = service(name).get("depends_on");
    Map<String, String> out = new LinkedHashMap<>();
    if (d instanceof List<?> l) {
      l.forEach(t -> out.put(t.toString(), "service_started"));
    } else if (d instanceof Map<?, ?> m) {
      m.forEach((t, v) -> out.put(t.toString(), String.valueOf(map(v, name + ".depends_on").get("condition"))));
    }
    return out;
  }

  /** Where a named volume is mounted in the service. */
  private static String volumeTarget(String name, String volume) {
    return strings(service(name).get("volumes")).stream()
        .map(v -> v.split(":"))
        .filter(v -> v[0].equals(volume))
        .map(v -> v[1])
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " mounts volume " + volume));
  }

  /** The host file bound to a path in the service's container. */
  private static Path bindSource(String name, String target) {
    return strings(service(name).get("volumes")).stream()
        .map(v -> v.split(":"))
        .filter(v -> v[1].equals(target) && v[0].startsWith("./"))
        .map(v -> root.resolve(v[0]).normalize())
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " binds a file at " + target));
  }

  private static Path nginxConf() {
    Path conf = bindSource("nginx", NGINX_CONF_IN_CONTAINER);
    assertEquals(root.resolve("docker/nginx/nginx.conf"), conf);
    assertTrue(Files.isRegularFile(conf), conf + " exists");
    return conf;
  }

  /** The port of the default server in the compose nginx.conf. */
  private static int nginxListenPort() {
    try {
      Matcher m = Pattern.compile("listen (\\d+) default_server;").matcher(Files.readString(nginxConf()));
      assertTrue(m.find(), "nginx.conf has a default server");
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ---- small helpers

  private static void assertPinned(String image, String where) {
    assertTrue(PINNED.matcher(image).matches() && !image.contains("latest"),
        where + ": image " + image + " is pinned to an exact version");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String what) {
    assertTrue(o instanceof Map, what + " is a mapping");
    return (Map<String, Object>) o;
  }

  private static List<String> strings(Object o) {
    if (o == null) {
      return List.of();
    }
    assertTrue(o instanceof List, "a list: " + o);
    return ((List<?>) o).stream().map(String::valueOf).toList();
  }

  private static String lastValue(List<String> lines, String instruction) {
    String v = null;
    for (String l : lines) {
      if (l.startsWith(instruction)) {
        v = l.substring(instruction.length()).trim();
      }
    }
    return v;
  }

  private static List<String> jsonArray(String s) {
    assertNotNull(s);
    assertTrue(s.startsWith("[") && s.endsWith("]"), "exec form: " + s);
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(s);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** BERTH_* names set by ENV lines (with continuation lines) in the runtime stage. */
  private static Set<String> dockerfileEnvNames(List<String> lines) {
    String text = String.join("\n", lines).replace("\\\n", " ");
    Set<String> names = new LinkedHashSet<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("ENV ")) {
        Matcher m = Pattern.compile("(BERTH_[A-Z0-9_]+)=").matcher(line);
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  private static String normalized(String s) {
    return s.replaceAll("#[^\n]*", "").replaceAll("\\s+", " ").trim();
  }

  private static String replaceOnce(String text, String from, String to) {
    assertTrue(text.contains(from), "nginx.conf contains " + from);
    return text.replace(from, to);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static GatewayClient.Answer answer(int port, String host) {
    try {
      return GatewayClient.get("127.0.0.1", port, host, "/", Duration.ofSeconds(2));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops the test's Nginx (SIGTERM: fast shutdown) and makes sure no worker of it is left. */
  private static void stop(Process nginx) throws InterruptedException {
    List<ProcessHandle> children = nginx.descendants().toList();
    nginx.destroy();
    if (!nginx.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      children.forEach(ProcessHandle::destroyForcibly);
      nginx.destroyForcibly().waitFor();
    }
    Await.until("nginx workers gone", Duration.ofSeconds(10), () -> children.stream().noneMatch(ProcessHandle::isAlive));
  }

  /** A read-only environment that records every name looked up. */
  private static final class RecordingEnv extends AbstractMap<String, String> {
    private final Map<String, String> env;
    final Set<String> read = new TreeSet<>();

    RecordingEnv(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public String get(Object key) {
      read.add(String.valueOf(key));
      return env.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
      read.add(String.valueOf(key));
      return env.containsKey(key);
    }

    @Override
    public String getOrDefault(Object key, String dflt) {
      read.add(String.valueOf(key));
      return env.getOrDefault(key, dflt);
    }

    /** Names reached by iterating are not recorded: such a reader would show up as "never reads". */
    @Override
    public Set<Entry<String, String>> entrySet() {
      return Collections.unmodifiableMap(env).entrySet();
    }
  }
}
