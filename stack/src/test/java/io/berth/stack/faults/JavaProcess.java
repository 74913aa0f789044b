package io.berth.stack.faults;

import io.berth.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of ours on the stack's classpath (as {@code ./berth} runs it), output to a log file, that
 * a test can SIGKILL like a crash or SIGTERM like an operator.
 */
final class JavaProcess implements AutoCloseable {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
  private final String name;
  private final Process process;
  private final Path log;

  private JavaProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** {@code stack/target/classes} (logback-stack.xml) plus the runtime classpath Maven wrote. */
  static String classpath() {
    try {
      String deps = Files.readString(ROOT.resolve("stack/target/classpath.txt")).trim();
      return ROOT.resolve("stack/target/classes") + java.io.File.pathSeparator + deps;
    } catch (IOException e) {
      throw new UncheckedIOException("no stack/target/classpath.txt: build with mvn first", e);
    }
  }

  static JavaProcess start(String name, Path logDir, Map<String, String> env, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dlogback.configurationFile=logback-stack.xml",
        "-cp", classpath(), mainClass));
    cmd.addAll(List.of(args));
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("BERTH_"));
    pb.environment().putAll(env);
    try {
      return new JavaProcess(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /** Waits until the log shows {@code line} (or the process dies: then fails with the log's tail). */
  JavaProcess awaitLog(String line, Duration bound) {
    Await.until(name + " to log '" + line + "'", bound, () -> {
      if (log().contains(line)) {
        return true;
      }
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + tail(40));
      }
      return false;
    });
    return this;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook runs, sockets drop, child processes (Nginx, workspaces) live on. */
  void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(10));
  }

  /** SIGTERM: the shutdown hook runs (the worker stops Nginx and its workspaces); SIGKILL after the bound. */
  void stop(Duration bound) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!waitFor(bound)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(10));
    }
  }

  private boolean waitFor(Duration bound) {
    try {
      return process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  String log() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  String tail(int lines) {
    List<String> all = log().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(30));
  }

  @Override
  public String toString() {
    return name + "(" + process.pid() + ")";
  }
}
