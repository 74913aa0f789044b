package io.berth.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import redis.clients.jedis.RedisClient;

/**
 * A private redis-server on a free loopback port, so tests never touch the shared Redis on 6379.
 * No persistence; {@link #restart()} loses every key, as a real crash without persistence would.
 */
public final class PrivateRedis implements AutoCloseable {
  private final int port;
  private final Path dir;
  private Process process;

  private PrivateRedis(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  public static PrivateRedis start() {
    try {
      PrivateRedis r = new PrivateRedis(FreePorts.next(), Files.createTempDirectory("berth-redis"));
      r.launch();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void launch() throws IOException {
    process = new ProcessBuilder(List.of(redisServer(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no"))
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("redis.log").toFile())
        .start();
    Await.until("redis-server on " + port, Duration.ofSeconds(10), this::answers);
  }

  private static String redisServer() {
    for (String p : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server")) {
      if (new File(p).canExecute()) {
        return p;
      }
    }
    return "redis-server";
  }

  private boolean answers() {
    try (RedisClient c = RedisClient.create(url())) {
      return "PONG".equals(c.ping());
    } catch (RuntimeException e) {
      return false;
    }
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public void stop() {
    if (process != null) {
      process.destroy();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Stops and starts again on the same port: every key is gone. */
  public void restart() {
    stop();
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
