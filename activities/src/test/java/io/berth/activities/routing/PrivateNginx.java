package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A managed Nginx under a fresh temp prefix on a free port; close() stops it and checks nothing is left. */
final class PrivateNginx implements AutoCloseable {
  final Path base;
  final Path prefix;
  final NginxProcess nginx;

  private PrivateNginx(Path base, WildcardServer wildcard) {
    this.base = base;
    this.prefix = base.resolve("nginx");
    this.nginx = NginxProcess.managed(prefix, "127.0.0.1:" + FreePorts.next(), NginxProcess.defaultBinary(), wildcard);
  }

  static PrivateNginx start() {
    return start(null);
  }

  /** With {@code wildcard}: dynamic routing's main config. */
  static PrivateNginx start(WildcardServer wildcard) {
    try {
      PrivateNginx n = new PrivateNginx(Files.createTempDirectory("berth-nginx-test"), wildcard);
      n.nginx.start();
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Gateway gateway() {
    return nginx.gateway();
  }

  /** Processes whose command line names this prefix (the master carries it in its title). */
  String processesOfPrefix() {
    try {
      Process p = new ProcessBuilder("pgrep", "-af", prefix.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      return out.lines().filter(l -> !l.contains("pgrep")).reduce("", (a, b) -> a + b + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    nginx.stop();
    assertEquals("", processesOfPrefix(), "nginx processes left for " + prefix);
    try (Stream<Path> files = Files.walk(base)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
