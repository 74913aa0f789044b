package io.berth.api;

import io.berth.api.metrics.HeartbeatMeters;
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
  private final HeartbeatMeters meters;

  public HeartbeatSignals(WorkspaceWorkflows workflows, HeartbeatMeters meters) {
    this.workflows = workflows;
    this.meters = meters;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
      Thread t = new Thread(r, "heartbeat-signal-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.allowCoreThreadTimeOut(true);
  }

  public void send(String user) {
    try {
      executor.execute(() -> signal(user));
    } catch (RejectedExecutionException e) {
      meters.signalDropped();
      if (dropped.incrementAndGet() % 1000 == 1) {
        log.warn("heartbeat signal queue full; dropped {} signals so far", dropped.get());
      }
    }
  }

  private void signal(String user) {
    try {
      workflows.heartbeat(user);
      meters.signalSent();
    } catch (RuntimeException e) {
      meters.signalFailed();
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
