package io.berth.api.errors;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;

/**
 * Renders every error Micronaut itself produces (unknown route, malformed JSON, bad argument,
 * and security's 401/403) as {@code {"error","message"}}, JSON even for browsers. Server errors
 * say nothing about their cause: exception messages can carry internals.
 */
@Singleton
@Replaces(ErrorResponseProcessor.class)
public class JsonErrors implements ErrorResponseProcessor<ApiError> {

  @Override
  public MutableHttpResponse<ApiError> processResponse(ErrorContext context, MutableHttpResponse<?> response) {
    HttpStatus status = response.getStatus();
    return response.contentType(MediaType.APPLICATION_JSON_TYPE)
        .body(new ApiError(ApiError.codeFor(status), message(status, context)));
  }

  private static String message(HttpStatus status, ErrorContext context) {
    return switch (status) {
      case UNAUTHORIZED -> "a valid bearer token is required";
      case FORBIDDEN -> "this call needs the admin role";
      case NOT_FOUND -> "no such resource";
      default -> {
        if (status.getCode() >= 500) {
          yield "internal error";
        }
        // first line only: parsers append source excerpts and positions below it
        yield context.getErrors().stream().map(Error::getMessage).filter(m -> m != null && !m.isBlank())
            .map(m -> m.lines().findFirst().orElse(m)).findFirst().orElse(status.getReason());
      }
    };
  }
}
