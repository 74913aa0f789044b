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
  /** null: no password. */
  private final String password;
  private Process process;

  private PrivateRedis(int port, Path dir, String password) {
    this.port = port;
    this.dir = dir;
    this.password = password;
  }

  /**
   * A server that requires {@code requirepass}: the password is in a mode-600 config file (never
   * on the command line, which every user of the machine can read) and in {@link #url()}.
   */
  public static PrivateRedis withPassword() {
    try {
      byte[] random = new byte[24];
      new java.security.SecureRandom().nextBytes(random);
      PrivateRedis r = new PrivateRedis(FreePorts.next(), Files.createTempDirectory("berth-redis"),
          java.util.HexFormat.of().formatHex(random));
      r.launch();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static PrivateRedis start() {
    try {
      PrivateRedis r = new PrivateRedis(FreePorts.next(), Files.createTempDirectory("berth-redis"), null);
      r.launch();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void launch() throws IOException {
    Path conf = dir.resolve("redis.conf");
    Files.deleteIfExists(conf);
    Files.createFile(conf, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(conf, password == null ? "" : "requirepass " + password + "\n");
    process = new ProcessBuilder(List.of(redisServer(), conf.toString(), "--port", String.valueOf(port), "--bind",
        "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no"))
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

  /** With the password, when the server has one. */
  public String url() {
    return password == null ? urlWithoutPassword() : "redis://:" + password + "@127.0.0.1:" + port;
  }

  public String urlWithoutPassword() {
    return "redis://127.0.0.1:" + port;
  }

  /** null when the server needs none. */
  public String password() {
    return password;
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
