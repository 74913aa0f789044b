package io.berth.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import redis.clients.jedis.RedisClient;

/**
 * A {@link PrivateRedis} for one test class, emptied before each test:
 * {@code @RegisterExtension static final RedisPerClass redis = new RedisPerClass();}
 */
public final class RedisPerClass implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  private PrivateRedis server;
  private RedisClient client;

  @Override
  public void beforeAll(ExtensionContext context) {
    server = PrivateRedis.start();
    client = RedisClient.create(server.url());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    client.flushAll();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    client.close();
    server.close();
  }

  public RedisClient client() {
    return client;
  }

  public PrivateRedis server() {
    return server;
  }
}
