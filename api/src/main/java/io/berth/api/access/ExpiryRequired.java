package io.berth.api.access;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.security.token.Claims;
import io.micronaut.security.token.jwt.validator.GenericJwtClaimsValidator;
import jakarta.inject.Singleton;

/**
 * A user JWT must say when it expires: Micronaut accepts a token without {@code exp}, which
 * would be a key that never stops working. The expiry itself is checked by Micronaut.
 */
@Singleton
public class ExpiryRequired implements GenericJwtClaimsValidator<HttpRequest<?>> {
  @Override
  public boolean validate(Claims claims, @Nullable HttpRequest<?> request) {
    return claims.contains(Claims.EXPIRATION_TIME);
  }
}
