package io.berth.api.access;

import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.security.token.Claims;
import io.micronaut.security.token.jwt.validator.GenericJwtClaimsValidator;
import jakarta.inject.Singleton;
import java.util.Collection;

/**
 * When configured, a user JWT must come from this issuer ({@code berth.jwt.issuer},
 * BERTH_JWT_ISSUER: {@code iss} equals it) and be meant for Berth ({@code berth.jwt.audience},
 * BERTH_JWT_AUDIENCE: {@code aud}, a string or a list, holds it). Unset, either check is off.
 * An identity provider signs tokens for many applications: without the audience check, a token
 * it issued for another one would open Berth too.
 */
@Singleton
public class IssuerAndAudience implements GenericJwtClaimsValidator<HttpRequest<?>> {
  private final String issuer;
  private final String audience;

  public IssuerAndAudience(@Nullable @Value("${berth.jwt.issuer:}") String issuer,
                           @Nullable @Value("${berth.jwt.audience:}") String audience) {
    this.issuer = issuer == null ? "" : issuer.trim();
    this.audience = audience == null ? "" : audience.trim();
  }

  @Override
  public boolean validate(Claims claims, @Nullable HttpRequest<?> request) {
    return issuerMatches(claims.get(Claims.ISSUER)) && audienceMatches(claims.get(Claims.AUDIENCE));
  }

  private boolean issuerMatches(Object iss) {
    return issuer.isEmpty() || issuer.equals(iss == null ? null : iss.toString());
  }

  private boolean audienceMatches(Object aud) {
    if (audience.isEmpty()) {
      return true;
    }
    if (aud instanceof Collection<?> c) {
      return c.stream().anyMatch(a -> audience.equals(String.valueOf(a)));
    }
    return aud != null && audience.equals(aud.toString());
  }
}
