package io.berth.api.health;

import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.reactivestreams.Publisher;

/**
 * A check that blocks (a network round trip) and so runs on the blocking pool, never the event
 * loop. Details are short words, never exception text, because /health is public.
 */
abstract class BlockingHealthIndicator implements HealthIndicator {
  private final ExecutorService executor;

  BlockingHealthIndicator(ExecutorService executor) {
    this.executor = executor;
  }

  abstract String name();

  abstract HealthResult check();

  @Override
  public Publisher<HealthResult> getResult() {
    return Publishers.fromCompletableFuture(CompletableFuture.supplyAsync(this::safeCheck, executor));
  }

  private HealthResult safeCheck() {
    try {
      return check();
    } catch (RuntimeException e) {
      return result(HealthStatus.DOWN, Map.of("error", e.getClass().getSimpleName()));
    }
  }

  HealthResult result(HealthStatus status, Map<String, ?> details) {
    return HealthResult.builder(name(), status).details(details).build();
  }
}
