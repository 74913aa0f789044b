package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.RedisKeys;
import io.micronaut.context.ApplicationContext;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Context-level behaviour, no HTTP: how the API starts and how the embedded stack hands it its clients. */
class StartupTest {

  private static Map<String, Object> props(String secret) {
    Map<String, Object> p = new HashMap<>();
    p.put("berth.jwt.secret", secret);
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
