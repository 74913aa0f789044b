package io.berth.api.access;

import io.berth.api.errors.ApiError;
import io.berth.workflows.GatewayToken;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/gateway/*} answers only the gateway: a request without the gateway token in
 * {@value GatewayToken#HEADER} gets 403 before any controller runs. Workspace processes share the
 * machine's loopback with the API, so without this a workspace could ask for another host's
 * upstream or check cookies as if it were Nginx. The token is compared in constant time and never
 * logged.
 */
@ServerFilter("/api/gateway/**")
public class GatewayOnlyFilter {
  private static final Logger log = LoggerFactory.getLogger(GatewayOnlyFilter.class);
  private static final long WARN_EVERY_MILLIS = 60_000;
  private final String token;
  private final AtomicLong lastWarn = new AtomicLong();

  public GatewayOnlyFilter(@Nullable @Value("${berth.gateway.token:}") String token,
                           @Nullable @Value("${berth.state-dir:}") String stateDir) {
    Map<String, String> env = new HashMap<>();
    env.put(GatewayToken.ENV, token);
    env.put("BERTH_STATE_DIR", stateDir);
    this.token = GatewayToken.resolve(env);
  }

  @RequestFilter
  @Nullable
  public HttpResponse<?> onlyTheGateway(HttpRequest<?> request) {
    if (GatewayToken.matches(token, request.getHeaders().get(GatewayToken.HEADER))) {
      return null;
    }
    long now = System.currentTimeMillis();
    long last = lastWarn.get();
    if (now - last > WARN_EVERY_MILLIS && lastWarn.compareAndSet(last, now)) {
      // Seen when Nginx runs with another token (a stale external config) or when something else calls.
      log.warn("refused {} {} from {}: no valid {} (at most one such warning a minute)", request.getMethod(),
          request.getPath(), request.getRemoteAddress().getAddress().getHostAddress(), GatewayToken.HEADER);
    }
    return HttpResponse.status(HttpStatus.FORBIDDEN)
        .body(new ApiError("forbidden", "only the gateway may call " + request.getPath()));
  }
}
