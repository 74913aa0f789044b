package io.berth.api.errors;

import io.micronaut.http.HttpStatus;
import io.micronaut.serde.annotation.Serdeable;

/** The body of every error answer: a stable machine word and a sentence for people. */
@Serdeable
public record ApiError(String error, String message) {

  /** The machine word for a status, so handlers that only know the status still answer alike. */
  public static String codeFor(HttpStatus status) {
    return switch (status) {
      case BAD_REQUEST -> "bad_request";
      case UNAUTHORIZED -> "unauthorized";
      case FORBIDDEN -> "forbidden";
      case NOT_FOUND -> "not_found";
      case METHOD_NOT_ALLOWED -> "method_not_allowed";
      case CONFLICT -> "conflict";
      case REQUEST_ENTITY_TOO_LARGE -> "too_large";
      case UNSUPPORTED_MEDIA_TYPE -> "unsupported_media_type";
      case TOO_MANY_REQUESTS -> "rate_limited";
      case SERVICE_UNAVAILABLE -> "unavailable";
      case GATEWAY_TIMEOUT -> "timeout";
      default -> status.getCode() >= 500 ? "internal" : status.name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
