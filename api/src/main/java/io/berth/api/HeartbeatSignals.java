package io.berth.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends heartbeat signals off the request path. Bounded: when Temporal is slow, extra signals are
 * dropped (and logged) rather than queued without end; Redis already holds the activity, and the
 * workflow reads it before reclaiming an idle workspace.
 */
@Singleton
public class HeartbeatSignals {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatSignals.class);
  private final WorkspaceWorkflows workflows;
  private final ThreadPoolExecutor executor;
  private final AtomicInteger dropped = new AtomicInteger();
  private final Counter sent;
  private final Counter failed;
  private final Counter droppedCount;

  public HeartbeatSignals(WorkspaceWorkflows workflows, MeterRegistry registry) {
    this.workflows = workflows;
    this.sent = counter(registry, "sent");
    this.failed = counter(registry, "failed");
    this.droppedCount = counter(registry, "dropped");
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
      Thread t = new Thread(r, "heartbeat-signal-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.allowCoreThreadTimeOut(true);
  }

  private static Counter counter(MeterRegistry registry, String result) {
    return Counter.builder("berth.heartbeat.signals")
        .description("Heartbeat signals to workspace workflows (one per user per coalescing window)")
        .tag("result", result)
        .register(registry);
  }

  public void send(String user) {
    try {
      executor.execute(() -> signal(user));
    } catch (RejectedExecutionException e) {
      droppedCount.increment();
      if (dropped.incrementAndGet() % 1000 == 1) {
        log.warn("heartbeat signal queue full; dropped {} signals so far", dropped.get());
      }
    }
  }

  private void signal(String user) {
    try {
      workflows.heartbeat(user);
      sent.increment();
    } catch (RuntimeException e) {
      failed.increment();
      log.info("heartbeat signal for {} not delivered: {}", user, e.toString());
    }
  }

  public int dropped() {
    return dropped.get();
  }

  @PreDestroy
  void stop() {
    executor.shutdown();
  }
}
