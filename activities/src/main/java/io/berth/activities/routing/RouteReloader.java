package io.berth.activities.routing;

import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that touches route files and reloads Nginx. Changes that arrive while it works
 * (or within a short window) share one {@code nginx -t} and one reload. When a batch fails the
 * test, every file goes back to what it was and the changes are tried one at a time, so only the
 * change that breaks the configuration fails.
 */
final class RouteReloader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteReloader.class);
  private static final int MAX_MESSAGE = 2000;

  /** Write {@code content} to the label's file, or remove the file when it is null. */
  record Change(String label, String content, CompletableFuture<Void> done) {}

  private record Applied(Change change, Path file, String previous) {}

  private final NginxProcess nginx;
  private final Duration window;
  private final Duration reloadBound;
  private final LinkedBlockingQueue<Change> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;
  private final AtomicLong reloads = new AtomicLong();
  private final AtomicLong changesApplied = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile String lastError;
  private volatile Instant lastErrorAt;

  RouteReloader(NginxProcess nginx, Duration window, Duration reloadBound) {
    this.nginx = nginx;
    this.window = window;
    this.reloadBound = reloadBound;
    this.thread = new Thread(this::loop, "berth-nginx-reloader");
    thread.setDaemon(true);
    thread.start();
  }

  CompletableFuture<Void> submit(String label, String content) {
    Change c = new Change(label, content, new CompletableFuture<>());
    if (closed) {
      c.done().completeExceptionally(ApplicationFailure.newFailure("routing is shutting down", "NginxUnavailable"));
      return c.done();
    }
    queue.add(c);
    return c.done();
  }

  long reloads() {
    return reloads.get();
  }

  long changesApplied() {
    return changesApplied.get();
  }

  long failures() {
    return failures.get();
  }

  String lastError() {
    return lastError;
  }

  Instant lastErrorAt() {
    return lastErrorAt;
  }

  private void loop() {
    while (!closed) {
      Change first;
      try {
        first = queue.poll(500, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        Thread.sleep(window.toMillis());
      } catch (InterruptedException e) {
        break;
      }
      List<Change> batch = nextBatch(first);
      try {
        apply(batch);
      } catch (RuntimeException e) {
        log.error("route batch failed", e);
        recordFailure(String.valueOf(e.getMessage()));
        batch.forEach(c -> fail(c, retryable("ReloadFailed", "route change failed: " + e.getMessage())));
      }
    }
    Change c;
    while ((c = queue.poll()) != null) {
      fail(c, retryable("NginxUnavailable", "routing is shutting down"));
    }
  }

  /** Everything queued, stopping before a second change for a label already in the batch (order per label). */
  private List<Change> nextBatch(Change first) {
    List<Change> batch = new ArrayList<>(List.of(first));
    Set<String> labels = new HashSet<>(Set.of(first.label()));
    Change next;
    while ((next = queue.peek()) != null && !labels.contains(next.label())) {
      batch.add(queue.poll());
      labels.add(next.label());
    }
    return batch;
  }

  private void apply(List<Change> batch) {
    if (!nginx.isRunning()) {
      applyWithoutNginx(batch);
      return;
    }
    List<Applied> applied = new ArrayList<>();
    for (Change c : batch) {
      try {
        applied.add(write(c));
      } catch (IOException e) {
        fail(c, retryable("RouteWriteFailed", "cannot write route file: " + e.getMessage()));
      }
    }
    if (applied.isEmpty()) {
      return;
    }
    NginxProcess.TestResult test = nginx.test();
    List<Applied> good = applied;
    if (!test.ok()) {
      recordFailure(test.output());
      revertAll(applied);
      good = isolate(applied, test);
    }
    if (!good.isEmpty()) {
      reload(good);
    }
  }

  /** Removals need no Nginx (a later start reads the directory); writes wait until it runs. */
  private void applyWithoutNginx(List<Change> batch) {
    for (Change c : batch) {
      if (c.content() == null) {
        try {
          write(c);
          c.done().complete(null);
        } catch (IOException e) {
          fail(c, retryable("RouteWriteFailed", "cannot remove route file: " + e.getMessage()));
        }
      } else {
        fail(c, retryable("NginxUnavailable", "nginx is not running"));
      }
    }
  }

  /**
   * After a failed batch test (files already restored): if the old configuration fails too, the
   * fault is not ours and every change fails retryably; otherwise each change is tried alone.
   */
  private List<Applied> isolate(List<Applied> applied, NginxProcess.TestResult batchTest) {
    NginxProcess.TestResult base = nginx.test();
    if (!base.ok()) {
      applied.forEach(a -> fail(a.change(), retryable("NginxConfigBroken",
          "nginx configuration is broken independently of this route: " + base.output())));
      return List.of();
    }
    if (applied.size() == 1) {
      fail(applied.get(0).change(), rejected(batchTest.output()));
      return List.of();
    }
    List<Applied> good = new ArrayList<>();
    for (Applied a : applied) {
      try {
        Applied again = write(a.change());
        NginxProcess.TestResult alone = nginx.test();
        if (alone.ok()) {
          good.add(again);
        } else {
          revert(again);
          fail(a.change(), rejected(alone.output()));
        }
      } catch (IOException e) {
        fail(a.change(), retryable("RouteWriteFailed", "cannot write route file: " + e.getMessage()));
      }
    }
    return good;
  }

  private void reload(List<Applied> good) {
    try {
      nginx.reloadTested(reloadBound);
      reloads.incrementAndGet();
      changesApplied.addAndGet(good.size());
      good.forEach(a -> a.change().done().complete(null));
    } catch (NginxProcess.NotRunningException e) {
      recordFailure(e.getMessage());
      for (Applied a : good) {
        if (a.change().content() == null) {
          a.change().done().complete(null);
        } else {
          revert(a);
          fail(a.change(), retryable("NginxUnavailable", "nginx is not running"));
        }
      }
    } catch (RuntimeException e) {
      // The configuration passed the test, so the files stay; a retry reloads again.
      recordFailure(e.getMessage());
      good.forEach(a -> fail(a.change(), retryable("ReloadFailed", "nginx reload failed: " + e.getMessage())));
    }
  }

  private Applied write(Change c) throws IOException {
    Path file = nginx.routesDir().resolve(c.label() + ".conf");
    String previous = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
    put(file, c.content());
    return new Applied(c, file, previous);
  }

  private void revertAll(List<Applied> applied) {
    for (int i = applied.size() - 1; i >= 0; i--) {
      revert(applied.get(i));
    }
  }

  private void revert(Applied a) {
    try {
      put(a.file(), a.previous());
    } catch (IOException e) {
      log.error("cannot restore route file {}", a.file(), e);
      recordFailure("cannot restore " + a.file() + ": " + e.getMessage());
    }
  }

  private static void put(Path file, String content) throws IOException {
    if (content == null) {
      Files.deleteIfExists(file);
    } else {
      NginxProcess.writeAtomically(file, content);
    }
  }

  private void recordFailure(String message) {
    failures.incrementAndGet();
    lastError = truncate(message);
    lastErrorAt = Instant.now();
    log.warn("nginx route change failed: {}", lastError);
  }

  private static void fail(Change c, ApplicationFailure f) {
    c.done().completeExceptionally(f);
  }

  private static ApplicationFailure retryable(String type, String message) {
    return ApplicationFailure.newFailure(truncate(message), type);
  }

  private static ApplicationFailure rejected(String testOutput) {
    return ApplicationFailure.newNonRetryableFailure(truncate("nginx -t rejects the route: " + testOutput),
        "RouteRejected");
  }

  private static String truncate(String s) {
    return s == null || s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "...";
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
