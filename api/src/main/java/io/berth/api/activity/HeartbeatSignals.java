package io.berth.api.activity;

import io.berth.api.metrics.HeartbeatMeters;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.api.workspaces.WorkspaceWorkflows;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@code beat(atMillis)} signals off the request path, each carrying the time of the beat
 * that opened its coalescing window. Bounded twice: a full queue drops the signal, and a signal
 * that waited longer than the window is dropped when its turn comes instead of being sent late.
 * Both are safe: Redis already holds the activity ({@code lastSeen}, {@code ws:pings}), the
 * workflow reads it before it reclaims an idle workspace, and the next window sends a fresher beat.
 *
 * <p>Sizing: each workspace sends at most one signal per window, so demand is active workspaces ÷
 * window (10,000 at the default 30 s: ~333/s). A signal is one blocking RPC (a few ms on an idle
 * server, tens of ms on a busy one); {@value #SENDERS} senders carry 333/s up to ~48 ms per RPC.
 * The queue holds one window's worth of signals for 10,000 workspaces.
 */
@Singleton
public class HeartbeatSignals {
  static final int SENDERS = 16;
  static final int QUEUE = 10_000;
  private static final Logger log = LoggerFactory.getLogger(HeartbeatSignals.class);

  /** Delivers one signal; blocking. */
  @FunctionalInterface
  interface Sender {
    void beat(String user, long atMillis);
  }

  private final Sender sender;
  private final HeartbeatMeters meters;
  private final long windowMillis;
  private final LongSupplier clock;
  private final ThreadPoolExecutor executor;
  private final AtomicInteger dropped = new AtomicInteger();
  private final AtomicInteger expired = new AtomicInteger();

  @Inject
  public HeartbeatSignals(WorkspaceWorkflows workflows, HeartbeatMeters meters, WorkspaceSettings settings) {
    this(workflows::beat, meters, settings.effectiveHeartbeatWindow(), System::currentTimeMillis, SENDERS, QUEUE);
  }

  HeartbeatSignals(Sender sender, HeartbeatMeters meters, Duration window, LongSupplier clock, int senders,
                   int queue) {
    this.sender = sender;
    this.meters = meters;
    this.windowMillis = window.toMillis();
    this.clock = clock;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(senders, senders, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue),
        r -> {
          Thread t = new Thread(r, "heartbeat-signal-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
  }

  /** Queues the beat at {@code atMillis} (this API's clock) for the user's workflow. */
  public void send(String user, long atMillis) {
    try {
      executor.execute(() -> deliver(user, atMillis));
    } catch (RejectedExecutionException e) {
      meters.signalDropped();
      if (dropped.incrementAndGet() % 1000 == 1) {
        log.warn("heartbeat signal queue full; dropped {} signals so far", dropped.get());
      }
    }
  }

  private void deliver(String user, long atMillis) {
    long waited = clock.getAsLong() - atMillis;
    if (waited > windowMillis) {
      meters.signalExpired();
      if (expired.incrementAndGet() % 1000 == 1) {
        log.warn("heartbeat signals wait longer than the {} ms window; dropped {} late ones so far", windowMillis,
            expired.get());
      }
      return;
    }
    try {
      sender.beat(user, atMillis);
      meters.signalSent();
    } catch (RuntimeException e) {
      meters.signalFailed();
      log.info("heartbeat signal for {} not delivered: {}", user, e.toString());
    }
  }

  /** Signals dropped because the queue was full. */
  public int dropped() {
    return dropped.get();
  }

  /** Signals dropped because they waited longer than the coalescing window. */
  public int expired() {
    return expired.get();
  }

  @PreDestroy
  void stop() {
    executor.shutdown();
  }
}
