package io.berth.api.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.api.metrics.HeartbeatMeters;
import io.berth.testkit.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The signal sender alone, with one sender thread held at a gate and a clock the test moves. */
class HeartbeatSignalsTest {
  static final Duration WINDOW = Duration.ofSeconds(30);
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final HeartbeatMeters meters = new HeartbeatMeters(registry);
  final AtomicLong now = new AtomicLong(1_000_000);
  final CountDownLatch gate = new CountDownLatch(1);
  final List<String> sent = Collections.synchronizedList(new ArrayList<>());

  private HeartbeatSignals signals(int queue) {
    return new HeartbeatSignals((user, at) -> {
      sent.add(user + "@" + at);
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, meters, WINDOW, now::get, 1, queue);
  }

  private double counted(String result) {
    return registry.get("berth.heartbeat.signals").tag("result", result).counter().count();
  }

  @Test
  void aSignalThatWaitedLongerThanTheWindowIsDroppedNotSentLate() {
    HeartbeatSignals signals = signals(10);
    signals.send("first", now.get());
    Await.until("the first signal at the sender", Duration.ofSeconds(10), () -> sent.size() == 1);
    signals.send("late", now.get()); // queued behind it...
    now.addAndGet(WINDOW.toMillis() + 1); // ...for longer than a window
    signals.send("fresh", now.get());
    gate.countDown();

    Await.until("both queued signals handled", Duration.ofSeconds(10), () -> counted("sent") == 2);
    assertEquals(List.of("first@1000000", "fresh@1030001"), sent);
    assertEquals(1, signals.expired());
    assertEquals(1, counted("expired"), 0);
    assertEquals(0, counted("dropped"), 0);
  }

  @Test
  void aFullQueueDropsAndCounts() {
    HeartbeatSignals signals = signals(1);
    signals.send("a", now.get());
    Await.until("a at the sender", Duration.ofSeconds(10), () -> sent.size() == 1);
    signals.send("b", now.get()); // fills the queue
    signals.send("c", now.get()); // no room
    assertEquals(1, signals.dropped());
    assertEquals(1, counted("dropped"), 0);
    gate.countDown();
    Await.until("a and b sent", Duration.ofSeconds(10), () -> counted("sent") == 2);
    assertEquals(List.of("a@1000000", "b@1000000"), sent);
  }
}
