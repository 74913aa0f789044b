package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.access.AccessCookies;
import io.berth.api.workspaces.AllocateRate;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.pools.Pools;
import io.micronaut.context.ApplicationContext;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/** Context-level behaviour, no HTTP: how the API starts and how the embedded stack hands it its clients. */
class StartupTest {
  static final String GATEWAY_SECRET = "gateway-secret-for-startup-tests-0123456789";

  private static Map<String, Object> props(String secret) {
    Map<String, Object> p = new HashMap<>();
    p.put("berth.jwt.secret", secret);
    p.put("berth.gateway.secret", GATEWAY_SECRET); // no gateway-secret file in the working directory
    p.put("berth.redis.url", "redis://127.0.0.1:1");
    p.put("berth.temporal.target", "127.0.0.1:1");
    return p;
  }

  @Test
  void shortSecretStopsStartupWithAClearMessage() {
    Exception e = assertThrows(Exception.class, () -> ApplicationContext.run(props("short")).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage().contains("at least 32"), root.getMessage());
  }

  @Test
  void badWorkspaceSettingsStopStartup() {
    Map<String, Object> p = props("0123456789abcdef0123456789abcdef");
    p.put("berth.workspace.allocate-rate", "lots");
    Exception e = assertThrows(Exception.class, () -> ApplicationContext.run(p).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage().contains("allocate rate"), root.getMessage());
  }

  @Test
  void defaultsFromApplicationYml() {
    Assumptions.assumeTrue(System.getenv().keySet().stream().noneMatch(k -> k.startsWith("BERTH_")),
        "BERTH_* variables set in this environment");
    // no deduced "test" environment: application-test.yml would move the port
    try (ApplicationContext ctx = ApplicationContext.builder().deduceEnvironment(false)
        .properties(Map.of("berth.jwt.secret", "0123456789abcdef0123456789abcdef",
            "berth.gateway.secret", GATEWAY_SECRET)).start()) {
      RedisSettings redis = ctx.getBean(RedisSettings.class);
      assertEquals("redis://127.0.0.1:6379", redis.url());
      assertEquals("berth:", redis.prefix());
      TemporalSettings temporal = ctx.getBean(TemporalSettings.class);
      assertEquals("127.0.0.1:7233", temporal.target());
      assertEquals("default", temporal.namespace());
      WorkspaceSettings ws = ctx.getBean(WorkspaceSettings.class);
      assertEquals(Duration.ofMinutes(30), ws.idleTimeout());
      assertEquals(Duration.ofHours(12), ws.maxLifetime());
      assertEquals(Duration.ofMinutes(5), ws.coldStartTimeout());
      assertEquals(Duration.ofSeconds(10), ws.allocateWait());
      assertEquals(Duration.ofSeconds(30), ws.effectiveHeartbeatWindow());
      Pools pools = ctx.getBean(Pools.class);
      assertEquals("demo", pools.defaultTemplate());
      assertEquals(List.of("demo"), pools.names());
      assertEquals("http://a-1.localhost:8088/", ws.urlFor("a-1"));
      assertEquals(new AllocateRate(10, Duration.ofMinutes(1)), ws.rate());
      assertEquals(new AllocateRate(30, Duration.ofMinutes(1)), ws.extendQuota());
      assertEquals(new AllocateRate(60, Duration.ofMinutes(1)), ws.launchQuota());
      assertTrue(ctx.getBean(AccessCookies.class).enabled(), "workspace auth is on by default");
      assertEquals(8080, ctx.getProperty("micronaut.server.port", Integer.class).orElseThrow());
      assertEquals("roles", ctx.getProperty("micronaut.security.token.roles-name", String.class).orElseThrow());
    }
  }

  @Test
  void environmentStyleOverridesReachTheSettings() {
    Map<String, Object> p = props("0123456789abcdef0123456789abcdef");
    p.put("berth.workspace.public-url", "https://{label}.ws.example.org/");
    p.put("berth.workspace.templates", "demo,code-server");
    p.put("berth.redis.prefix", "b2:");
    try (ApplicationContext ctx = ApplicationContext.run(p)) {
      WorkspaceSettings ws = ctx.getBean(WorkspaceSettings.class);
      assertEquals("https://a-1.ws.example.org/", ws.urlFor("a-1"));
      assertEquals(List.of("demo", "code-server"), ws.templates());
      assertEquals(List.of("demo", "code-server"), ctx.getBean(Pools.class).names());
      assertEquals("b2:", ctx.getBean(RedisKeys.class).prefix());
    }
  }

  @Test
  void anotherDefaultTemplateIsAllowedWithoutListingIt() {
    Map<String, Object> p = props("0123456789abcdef0123456789abcdef");
    p.put("BERTH_TEMPLATE", "chromium");
    try (ApplicationContext ctx = ApplicationContext.run(p)) {
      WorkspaceSettings ws = ctx.getBean(WorkspaceSettings.class);
      assertEquals("chromium", ws.template());
      assertEquals(List.of("chromium"), ctx.getBean(Pools.class).names());
    }
  }

  @Test
  void theTemplatesFileGivesTheDefaultAndThePoolsWithTheirOverrides(@TempDir Path dir) throws IOException {
    Map<String, Object> p = props("0123456789abcdef0123456789abcdef");
    p.put("BERTH_TEMPLATES_FILE", Files.writeString(dir.resolve("t.yml"), """
        default: shell
        templates:
          demo: {spares: 1}
          shell: {kind: command, spares: 2}
        """).toString());
    // as the embedded stack passes its environment: the command and an override under their own names
    p.put("BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --bind 127.0.0.1");
    p.put("BERTH_POOL_DEMO_SPARES", "3");
    try (ApplicationContext ctx = ApplicationContext.run(p)) {
      Pools pools = ctx.getBean(Pools.class);
      assertEquals("shell", pools.defaultTemplate(), "the file's default while BERTH_TEMPLATE is unset");
      assertEquals(List.of("demo", "shell"), pools.names());
      assertEquals(3, pools.get("demo").spares());
      assertEquals("python3 -m http.server {port} --bind 127.0.0.1", pools.get("shell").command());
    }
  }

  @Test
  void aBadTemplatesFileStopsStartupWithItsMessage(@TempDir Path dir) throws IOException {
    Map<String, Object> p = props("0123456789abcdef0123456789abcdef");
    p.put("berth.workspace.templates-file", Files.writeString(dir.resolve("t.yml"), """
        templates:
          demo:
            schedules:
              - {name: day, cron: "* 8-17 * * 1-5", spares: 4}
              - {name: noon, cron: "* 12 * * *", spares: 6}
        """).toString());
    assertTrue(rootMessage(p).contains("schedules 'day' and 'noon' overlap"), rootMessage(p));

    Map<String, Object> q = props("0123456789abcdef0123456789abcdef");
    q.put("BERTH_TEMPLATES", "demo,shell");
    assertTrue(rootMessage(q).contains("template 'shell': kind must be one of"), rootMessage(q));

    Map<String, Object> r = props("0123456789abcdef0123456789abcdef");
    r.put("BERTH_POOL_DEMO_MAX_HOSTS", "many");
    assertTrue(rootMessage(r).contains("maxHosts (from the environment) must be a whole number"), rootMessage(r));
  }

  private static String rootMessage(Map<String, Object> properties) {
    Exception e = assertThrows(Exception.class, () -> ApplicationContext.run(properties).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage();
  }

  @Test
  void embeddedStackCanPassItsOwnClients() {
    WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:1").build());
    WorkflowClient client = WorkflowClient.newInstance(stubs);
    RedisClient redis = RedisClient.create("redis://127.0.0.1:1");
    RedisKeys keys = new RedisKeys("stack:");
    try (ApplicationContext ctx = ApplicationContext.builder()
        .properties(props("0123456789abcdef0123456789abcdef"))
        .singletons(client, redis, keys)
        .start()) {
      assertSame(client, ctx.getBean(WorkflowClient.class));
      assertSame(redis, ctx.getBean(RedisClient.class));
      assertSame(keys, ctx.getBean(RedisKeys.class));
      assertSame(client, ctx.getBean(WorkspaceWorkflows.class).client());
    } finally {
      redis.close();
      stubs.shutdownNow();
    }
  }
}
