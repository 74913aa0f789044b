package io.berth.activities.fleet.local;

import io.berth.activities.store.PortAllocator;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slots' loopback ports: allocated through the {@link PortAllocator} (owner: the slot id), and,
 * when a slot's process is replaced, the same port again once the old process let go of it.
 */
final class SlotPorts {
  private static final Duration FREE_BOUND = Duration.ofSeconds(5);
  private static final Logger log = LoggerFactory.getLogger(SlotPorts.class);

  private final PortAllocator ports;
  private final Duration freeBound;

  SlotPorts(PortAllocator ports) {
    this(ports, FREE_BOUND);
  }

  /** {@code freeBound}: how long a port of the slot may stay bound after its process was killed. */
  SlotPorts(PortAllocator ports, Duration freeBound) {
    this.ports = ports;
    this.freeBound = freeBound;
  }

  int allocate(String slotId) {
    return ports.allocate(slotId);
  }

  /** Frees the port if it is still the slot's. */
  void release(int port, String slotId) {
    ports.release(port, slotId);
  }

  /** Records a port a recovered slot's process already holds; false when another owner has it. */
  boolean claim(int port, String slotId) {
    return ports.claim(port, slotId);
  }

  /** Frees every port whose owner is not one of {@code liveSlots}; returns how many. */
  int reclaimStale(Set<String> liveSlots) {
    return ports.reclaimStale(liveSlots);
  }

  /** The slot's own port once it is free again; a retry of the tag tries again when it stays busy. */
  int samePort(String slotId, int port) {
    long deadline = System.nanoTime() + freeBound.toNanos();
    while (System.nanoTime() < deadline) {
      if (port > 0 && slotId.equals(ports.ownerOf(port)) && PortAllocator.bindable(port)) {
        return port;
      }
      sleep(Duration.ofMillis(50));
    }
    throw ApplicationFailure.newFailure("port " + port + " of " + slotId + " is not free for the owner's process",
        "PortBusy");
  }

  /** The slot's port when it is still ours and free again; otherwise a new one. */
  int reusablePort(String slotId, int port) {
    if (port > 0 && slotId.equals(ports.ownerOf(port))) {
      long deadline = System.nanoTime() + freeBound.toNanos();
      while (System.nanoTime() < deadline) {
        if (PortAllocator.bindable(port)) {
          return port;
        }
        sleep(Duration.ofMillis(50));
      }
      log.warn("port {} of {} stayed busy: moving to a new port", port, slotId);
    }
    if (port > 0) {
      ports.release(port, slotId);
    }
    return ports.allocate(slotId);
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
