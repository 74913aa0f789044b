package io.berth.api.admin;

import io.berth.api.access.TokenMinter;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.http.HttpRequest;
import io.micronaut.inject.ExecutableMethod;
import io.micronaut.management.endpoint.EndpointSensitivityProcessor;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRuleResult;
import io.micronaut.security.rules.SensitiveEndpointRule;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;

/** Sensitive management endpoints (metrics) are for operators: the admin role, like /api/admin. */
@Singleton
@Replaces(SensitiveEndpointRule.class)
public class AdminEndpointRule extends SensitiveEndpointRule {

  public AdminEndpointRule(EndpointSensitivityProcessor endpointSensitivityProcessor) {
    super(endpointSensitivityProcessor);
  }

  @Override
  protected Publisher<SecurityRuleResult> checkSensitiveAuthenticated(HttpRequest<?> request,
                                                                      Authentication authentication,
                                                                      ExecutableMethod<?, ?> method) {
    return Publishers.just(authentication.getRoles().contains(TokenMinter.ADMIN)
        ? SecurityRuleResult.ALLOWED : SecurityRuleResult.REJECTED);
  }
}
