package io.berth.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The template on each slot: its health path, its start and stop commands, its user's home. */
final class Slots {
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);

  private final AgentConfig config;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  Slots(AgentConfig config) {
    this.config = config;
  }

  int port(int slot) {
    return config.port(slot);
  }

  /** GET on the template's own port; a body is returned for 2xx, null otherwise. */
  String get(int slot, String path) throws IOException, InterruptedException {
    URI uri = URI.create("http://" + config.templateHost() + ":" + config.port(slot) + path);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return r.statusCode() >= 200 && r.statusCode() < 300 ? r.body() : null;
  }

  /** The health path answers 2xx or 3xx, as the worker's probe requires before pooling the slot. */
  boolean healthy(int slot) {
    URI uri = URI.create("http://" + config.templateHost() + ":" + config.port(slot) + config.healthPath());
    try {
      int status = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
      return status >= 200 && status < 400;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Polls the health path until it answers or {@code bound} passes. */
  boolean awaitHealthy(int slot, Duration bound) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!healthy(slot)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(250);
    }
    return true;
  }

  void start(int slot) throws IOException, InterruptedException {
    run(config.startCommand(), slot);
  }

  void stop(int slot) throws IOException, InterruptedException {
    run(config.stopCommand(), slot);
  }

  /**
   * Deletes everything inside the slot user's home and keeps the directory itself (its owner and
   * mode come from the recipe). Symbolic links are removed, never followed: a user's link to
   * {@code /etc} must not take {@code /etc} with it.
   */
  void wipeHome(int slot) throws IOException {
    Path home = config.home(slot);
    if (!Files.isDirectory(home)) {
      throw new IOException("slot " + slot + "'s home " + home + " is not a directory");
    }
    Files.walkFileTree(home, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        deleteIfThere(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
        if (failure != null) {
          throw failure;
        }
        if (!dir.equals(home)) {
          deleteIfThere(dir);
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void deleteIfThere(Path p) throws IOException {
    try {
      Files.delete(p);
    } catch (NoSuchFileException e) {
      // Gone meanwhile (the stopped template's last writes): nothing to do.
    }
  }

  /** Runs a control command (no shell), bounded; its output goes to the agent's own output. */
  private void run(List<String> template, int slot) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>();
    template.forEach(w -> argv.add(w.replace("{slot}", String.valueOf(slot))));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", argv) + " did not finish within " + COMMAND_TIMEOUT.toSeconds() + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", argv) + " exited with " + p.exitValue());
    }
  }
}
