package io.berth.api.metrics;

import io.berth.api.access.TokenMinter;
import io.berth.api.errors.ApiException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

/**
 * {@code GET /prometheus}: the text exposition, for an admin JWT or the static scrape token
 * ({@code BERTH_METRICS_TOKEN}, for Prometheus' {@code authorization.credentials_file}). Without
 * a token configured only admins scrape: nothing is anonymous. The built-in management endpoint
 * is off; this one runs on the blocking pool because a scrape may first refresh the fleet gauges.
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS) // checked here: the scrape token is not a JWT
@ExecuteOn(TaskExecutors.BLOCKING)
public class PrometheusController {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private final PrometheusMeterRegistry registry;
  private final MetricsSources sources;
  private final MetricsSettings settings;

  public PrometheusController(PrometheusMeterRegistry registry, MetricsSources sources, MetricsSettings settings) {
    this.registry = registry;
    this.sources = sources;
    this.settings = settings;
  }

  @Operation(summary = "Metrics in the Prometheus text format",
      description = "An admin JWT, or Bearer <BERTH_METRICS_TOKEN>. See docs/METRICS.md.",
      security = @SecurityRequirement(name = "bearer", scopes = "admin"))
  @ApiResponse(responseCode = "200", description = "the exposition")
  @ApiResponse(responseCode = "401", description = "no admin JWT and no valid scrape token")
  @ApiResponse(responseCode = "403", description = "a user JWT without the admin role")
  @Get(value = "/prometheus", produces = CONTENT_TYPE)
  public String scrape(@Nullable Authentication authentication,
                       @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization) {
    authorize(authentication, authorization);
    sources.refresh();
    return registry.scrape();
  }

  private void authorize(Authentication authentication, String authorization) {
    if (authentication != null && authentication.getRoles().contains(TokenMinter.ADMIN)) {
      return;
    }
    if (settings.tokenMatches(bearer(authorization))) {
      return;
    }
    if (authentication != null) {
      throw new ApiException(HttpStatus.FORBIDDEN, "forbidden", "metrics are for operators", null);
    }
    throw ApiException.unauthorized("an admin token or the metrics scrape token is required");
  }

  private static String bearer(String authorization) {
    if (authorization == null || authorization.length() < 8 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return authorization.substring(7).trim();
  }
}
