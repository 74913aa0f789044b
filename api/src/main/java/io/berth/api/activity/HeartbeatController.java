package io.berth.api.activity;

import io.berth.api.RequestFields;
import io.berth.api.errors.ApiException;
import io.berth.api.metrics.HeartbeatMeters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import java.util.regex.Pattern;

/**
 * Activity from inside a workspace, from any client: the body and its content type are ignored
 * (no body, {@code curl -d ''}, a form from {@code HttpURLConnection}, a beacon's {@code text/plain},
 * JSON), so the route consumes every content type. Not a user JWT: the bearer is the workspace's own token,
 * checked by {@link Heartbeats} against its hash in Redis.
 */
@Controller("/api/heartbeat")
@Secured(SecurityRule.IS_ANONYMOUS)
public class HeartbeatController {
  /** Generous for any token we mint, and short enough that hashing a hostile header costs nothing. */
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]{16,256}");
  private final Heartbeats heartbeats;
  private final HeartbeatMeters meters;

  public HeartbeatController(Heartbeats heartbeats, HeartbeatMeters meters) {
    this.heartbeats = heartbeats;
    this.meters = meters;
  }

  @Operation(summary = "Activity from inside a workspace",
      description = "Authorization: Bearer <the workspace's own token>, not a user JWT",
      security = @SecurityRequirement(name = "bearer"))
  @ApiResponse(responseCode = "204", description = "recorded")
  @ApiResponse(responseCode = "401", description = "missing, unknown or stale token")
  @ApiResponse(responseCode = "413", description = "a body larger than " + RequestFields.MAX_BYTES + " bytes")
  @Post(consumes = MediaType.ALL)
  @ExecuteOn(TaskExecutors.BLOCKING)
  public HttpResponse<Void> beat(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                 @Header(HttpHeaders.CONTENT_LENGTH) @Nullable Long contentLength) {
    if (contentLength != null && contentLength > RequestFields.MAX_BYTES) {
      // Refused from its length alone: the body is never read, whatever it holds.
      throw ApiException.tooLarge("a heartbeat body may hold at most " + RequestFields.MAX_BYTES + " bytes");
    }
    try {
      heartbeats.beat(token(authorization));
    } catch (ApiException e) {
      if (e.status() == HttpStatus.UNAUTHORIZED) {
        meters.rejected();
      } else {
        meters.failed();
      }
      throw e;
    } catch (RuntimeException e) {
      meters.failed();
      throw e;
    }
    meters.accepted();
    return HttpResponse.noContent();
  }

  private static String token(String authorization) {
    if (authorization == null || authorization.length() < 8
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ApiException.unauthorized("a workspace token is required");
    }
    String token = authorization.substring(7).trim();
    if (!TOKEN.matcher(token).matches()) {
      throw ApiException.unauthorized("unknown heartbeat token");
    }
    return token;
  }
}
