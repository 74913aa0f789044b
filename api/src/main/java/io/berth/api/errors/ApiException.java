package io.berth.api.errors;

import io.micronaut.http.HttpStatus;
import java.time.Duration;

/** An answer other than success, thrown by controllers and services and rendered by {@link ApiExceptionHandler}. */
public class ApiException extends RuntimeException {
  private final HttpStatus status;
  private final String error;
  private final Duration retryAfter;

  public ApiException(HttpStatus status, String error, String message, Duration retryAfter) {
    super(message, null, false, false);
    this.status = status;
    this.error = error;
    this.retryAfter = retryAfter;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(HttpStatus.BAD_REQUEST, "bad_request", message, null);
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(HttpStatus.UNAUTHORIZED, "unauthorized", message, null);
  }

  public static ApiException forbidden(String message) {
    return new ApiException(HttpStatus.FORBIDDEN, "forbidden", message, null);
  }

  public static ApiException notFound(String message) {
    return new ApiException(HttpStatus.NOT_FOUND, "not_found", message, null);
  }

  public static ApiException tooLarge(String message) {
    return new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", message, null);
  }

  public static ApiException conflict(String message) {
    return new ApiException(HttpStatus.CONFLICT, "conflict", message, null);
  }

  public static ApiException unavailable(String message, Duration retryAfter) {
    return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "unavailable", message, retryAfter);
  }

  public static ApiException rateLimited(String message, Duration retryAfter) {
    return new ApiException(HttpStatus.TOO_MANY_REQUESTS, "rate_limited", message, retryAfter);
  }

  public HttpStatus status() {
    return status;
  }

  public String error() {
    return error;
  }

  /** Null when the answer carries no Retry-After. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
