package io.berth.api;

import io.berth.workflows.RedisUrls;
import io.berth.workflows.RedisKeys;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.RedisClient;

/**
 * The API's two outside systems. Each bean is built from properties ({@code berth.temporal.*},
 * {@code berth.redis.*}) unless the application context already holds one: the embedded stack
 * passes its own {@link WorkflowClient}, {@link RedisClient} or {@link RedisKeys} with
 * {@code ApplicationContext.builder().singletons(...)}, and then owns (and closes) them.
 */
@Factory
public class Clients {

  /** Stubs this factory opened (null when the client was passed in): closed with the context. */
  private volatile WorkflowServiceStubs ownStubs;

  /** Lazy: the API starts while Temporal is still down, and /health says so. */
  @Singleton
  @Requires(missingBeans = WorkflowClient.class)
  WorkflowClient workflowClient(TemporalSettings settings) {
    ownStubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(settings.target())
        .build());
    return WorkflowClient.newInstance(ownStubs, WorkflowClientOptions.newBuilder()
        .setNamespace(settings.namespace())
        .build());
  }

  @Singleton
  @Requires(missingBeans = RedisClient.class)
  @Bean(preDestroy = "close")
  RedisClient redisClient(RedisSettings settings) {
    // The heartbeat path runs on the blocking pool: enough connections that it never queues on the pool.
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(64);
    pool.setMaxIdle(64);
    pool.setMinIdle(2);
    pool.setMaxWait(Duration.ofSeconds(2));
    return RedisClient.builder().fromURI(RedisUrls.withPasswordFile(settings.url(), settings.passwordFile())).poolConfig(pool).build();
  }

  @Singleton
  @Requires(missingBeans = RedisKeys.class)
  RedisKeys redisKeys(RedisSettings settings) {
    return new RedisKeys(settings.prefix());
  }

  @PreDestroy
  void close() {
    WorkflowServiceStubs stubs = ownStubs;
    if (stubs != null) {
      stubs.shutdown();
    }
  }
}
