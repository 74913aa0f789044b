package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pokes of the capacity controller from workspace workflows, sent by the worker and coalesced.
 * A poke signalled from each workspace workflow cost that workflow one more workflow task (for
 * the signal's outcome) and the controller one workflow task and one reconcile pass per
 * allocation; under a burst most of those passes saw the same pool. Here the first poke after a
 * quiet {@link #WINDOW} goes out at once and the pokes that arrive within the window after it
 * go out together as one signal when it ends, so a burst costs the controller one pass per window.
 * Called as a local activity: the poke is a marker in the workspace's history, not a task.
 */
public final class CapacityPokes implements CapacityActivities, AutoCloseable {
  /** At most one signal per window; a pass costs the controller a few milliseconds of work. */
  public static final Duration WINDOW = Duration.ofMillis(250);
  private static final Logger log = LoggerFactory.getLogger(CapacityPokes.class);

  private final WorkflowClient client;
  private final long windowNanos;
  private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "capacity-pokes");
    t.setDaemon(true);
    return t;
  });
  private String firstReason;
  private int pending;
  private boolean scheduled;
  private long lastSent;

  public CapacityPokes(WorkflowClient client) {
    this(client, WINDOW);
  }

  public CapacityPokes(WorkflowClient client, Duration window) {
    this.client = client;
    this.windowNanos = window.toNanos();
    this.lastSent = System.nanoTime() - windowNanos;
  }

  @Override
  public void pokeCapacity(String reason) {
    synchronized (this) {
      if (pending++ == 0) {
        firstReason = reason;
      }
      if (scheduled) {
        return;
      }
      scheduled = true;
      long wait = Math.max(0, lastSent + windowNanos - System.nanoTime());
      sender.schedule(this::send, wait, TimeUnit.NANOSECONDS);
    }
  }

  private void send() {
    String reason;
    synchronized (this) {
      reason = pending == 1 ? firstReason : firstReason + " (+" + (pending - 1) + " more)";
      pending = 0;
      scheduled = false;
      lastSent = System.nanoTime();
    }
    try {
      client.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).poke(reason);
    } catch (RuntimeException e) {
      // Best effort, as the signal from the workflow was: the controller reconciles on its timer too.
      log.debug("poke '{}' not delivered: {}", reason, e.toString());
    }
  }

  @Override
  public void pokeCapacityOf(String controllerId, String reason) {
    pokeCapacity(reason); // TODO per controller
  }

  @Override
  public void close() {
    sender.shutdownNow();
  }
}
