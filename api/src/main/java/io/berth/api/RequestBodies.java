package io.berth.api;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.json.JsonMapper;
import jakarta.inject.Singleton;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Validator;
import java.util.Set;
import java.util.function.Function;

/**
 * A call's optional body as its request record, checked against the record's constraint
 * annotations ({@code @Pattern}, {@code @Positive}...). The body cannot be a {@code @Valid @Body}
 * parameter: it is read from JSON, a form or nothing at all ({@link RequestFields}), so the record
 * is built first and validated here. A violation is thrown as {@link ConstraintViolationException},
 * which the API answers with 400 and its JSON error body.
 */
@Singleton
public class RequestBodies {
  private final JsonMapper json;
  private final Validator validator;

  public RequestBodies(JsonMapper json, Validator validator) {
    this.json = json;
    this.validator = validator;
  }

  public <T> T read(@Nullable byte[] body, @Nullable String contentType, Function<RequestFields, T> toRecord) {
    T request = toRecord.apply(RequestFields.parse(body, contentType, json));
    Set<ConstraintViolation<T>> violations = validator.validate(request);
    if (!violations.isEmpty()) {
      throw new ConstraintViolationException(violations);
    }
    return request;
  }
}
