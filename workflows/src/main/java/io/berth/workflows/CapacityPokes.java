package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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
 * Each controller (one per template's pool) has its own window.
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
  /** Per controller id: the pokes waiting for its window. */
  private final Map<String, Pending> pending = new HashMap<>();

  /** The pokes of one controller coalesced so far, and when its last signal went out. */
  private static final class Pending {
    String firstReason;
    int count;
    boolean scheduled;
    long lastSent;
  }

  public CapacityPokes(WorkflowClient client) {
    this(client, WINDOW);
  }

  public CapacityPokes(WorkflowClient client, Duration window) {
    this.client = client;
    this.windowNanos = window.toNanos();
  }

  /** The controller of the default template ({@link CapacityWorkflow#ID}). */
  @Override
  public void pokeCapacity(String reason) {
    pokeCapacityOf(CapacityWorkflow.ID, reason);
  }

  /** Coalesced per controller: a burst on one template's pool does not delay another's pokes. */
  @Override
  public void pokeCapacityOf(String controllerId, String reason) {
    synchronized (this) {
      Pending p = pending.computeIfAbsent(controllerId, id -> {
        Pending fresh = new Pending();
        fresh.lastSent = System.nanoTime() - windowNanos;
        return fresh;
      });
      if (p.count++ == 0) {
        p.firstReason = reason;
      }
      if (p.scheduled) {
        return;
      }
      p.scheduled = true;
      long wait = Math.max(0, p.lastSent + windowNanos - System.nanoTime());
      sender.schedule(() -> send(controllerId, p), wait, TimeUnit.NANOSECONDS);
    }
  }

  private void send(String controllerId, Pending p) {
    String reason;
    synchronized (this) {
      reason = p.count == 1 ? p.firstReason : p.firstReason + " (+" + (p.count - 1) + " more)";
      p.count = 0;
      p.scheduled = false;
      p.lastSent = System.nanoTime();
    }
    try {
      client.newWorkflowStub(CapacityWorkflow.class, controllerId).poke(reason);
    } catch (RuntimeException e) {
      // Best effort, as the signal from the workflow was: the controller reconciles on its timer too.
      log.debug("poke '{}' of {} not delivered: {}", reason, controllerId, e.toString());
    }
  }

  @Override
  public void close() {
    sender.shutdownNow();
  }
}
