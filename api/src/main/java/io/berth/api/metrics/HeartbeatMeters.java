package io.berth.api.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;

/**
 * {@code berth_heartbeats_total{result}} and {@code berth_heartbeat_signals_total{result}}.
 * Registered at startup, so every series exists (at 0) before the first heartbeat.
 */
@Context
public class HeartbeatMeters {
  private final Counter accepted;
  private final Counter rejected;
  private final Counter failed;
  private final Counter signalsSent;
  private final Counter signalsFailed;
  private final Counter signalsDropped;
  private final Counter signalsExpired;

  public HeartbeatMeters(MeterRegistry registry) {
    accepted = beats(registry, "accepted");
    rejected = beats(registry, "rejected");
    failed = beats(registry, "error");
    signalsSent = signals(registry, "sent");
    signalsFailed = signals(registry, "failed");
    signalsDropped = signals(registry, "dropped");
    signalsExpired = signals(registry, "expired");
  }

  private static Counter beats(MeterRegistry registry, String result) {
    return Counter.builder("berth.heartbeats")
        .description("Heartbeats received: accepted, rejected (missing, unknown or stale token), error (Redis)")
        .tag("result", result)
        .register(registry);
  }

  private static Counter signals(MeterRegistry registry, String result) {
    return Counter.builder("berth.heartbeat.signals")
        .description("Heartbeat signals to workspace workflows, at most one per user per coalescing window: "
            + "sent, failed (Temporal), dropped (queue full), expired (waited longer than the window; not sent)")
        .tag("result", result)
        .register(registry);
  }

  public void accepted() {
    accepted.increment();
  }

  public void rejected() {
    rejected.increment();
  }

  public void failed() {
    failed.increment();
  }

  public void signalSent() {
    signalsSent.increment();
  }

  public void signalFailed() {
    signalsFailed.increment();
  }

  public void signalDropped() {
    signalsDropped.increment();
  }

  public void signalExpired() {
    signalsExpired.increment();
  }
}
