package io.berth.api.errors;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.validation.exceptions.ConstraintExceptionHandler;
import jakarta.inject.Singleton;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import java.util.Comparator;
import java.util.stream.Collectors;

/**
 * A request that breaks a constraint annotation: 400 with the API's error body, each violation as
 * {@code <field> <message>} (the field alone, not the method and parameter path the validator
 * reports, which says nothing to a caller).
 */
@Singleton
@Replaces(ConstraintExceptionHandler.class)
public class ConstraintViolationHandler implements ExceptionHandler<ConstraintViolationException, HttpResponse<ApiError>> {
  private final ApiExceptionHandler errors;

  public ConstraintViolationHandler(ApiExceptionHandler errors) {
    this.errors = errors;
  }

  @Override
  public HttpResponse<ApiError> handle(HttpRequest request, ConstraintViolationException e) {
    return errors.handle(request, ApiException.badRequest(message(e)));
  }

  static String message(ConstraintViolationException e) {
    if (e.getConstraintViolations() == null || e.getConstraintViolations().isEmpty()) {
      return "the request is invalid";
    }
    return e.getConstraintViolations().stream()
        .map(v -> field(v) + " " + v.getMessage())
        .sorted(Comparator.naturalOrder())
        .collect(Collectors.joining("; "));
  }

  private static String field(ConstraintViolation<?> v) {
    String name = null;
    for (Path.Node node : v.getPropertyPath()) {
      name = node.getName();
    }
    return name == null || name.isEmpty() ? "the request" : name;
  }
}
