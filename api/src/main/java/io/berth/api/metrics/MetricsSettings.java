package io.berth.api.metrics;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Context;
import io.micronaut.core.annotation.Nullable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;

/**
 * {@code berth.metrics.*}.
 *
 * @param token   a static bearer token that may scrape {@code /prometheus} besides an admin JWT
 *                ({@code BERTH_METRICS_TOKEN}); empty means admin JWTs only. At least
 *                {@value #MIN_TOKEN_LENGTH} characters: it does not expire.
 * @param refresh how long the fleet gauges and worker counters are reused before the next scrape
 *                asks Temporal and Redis again
 */
@Context // a short token fails the start, not the first scrape
@ConfigurationProperties("berth.metrics")
public record MetricsSettings(@Nullable String token, @Nullable Duration refresh) {
  public static final int MIN_TOKEN_LENGTH = 32;
  static final Duration DEFAULT_REFRESH = Duration.ofSeconds(5);

  public MetricsSettings {
    token = token == null || token.isBlank() ? null : token.trim();
    if (token != null && token.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalStateException("berth.metrics.token (BERTH_METRICS_TOKEN) must be at least "
          + MIN_TOKEN_LENGTH + " characters");
    }
    if (refresh == null || refresh.isNegative() || refresh.isZero()) {
      refresh = DEFAULT_REFRESH;
    }
  }

  /** Constant time, so the answer's timing tells nothing about the token. */
  boolean tokenMatches(String presented) {
    return token != null && presented != null && MessageDigest.isEqual(
        token.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
  }
}
