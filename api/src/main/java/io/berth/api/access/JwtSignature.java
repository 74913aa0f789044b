package io.berth.api.access;

import com.nimbusds.jose.JWSAlgorithm;
import io.berth.api.TokenCli;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.condition.Condition;
import io.micronaut.context.condition.ConditionContext;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.security.token.jwt.signature.SignatureConfiguration;
import io.micronaut.security.token.jwt.signature.jwks.JwksSignatureConfiguration;
import io.micronaut.security.token.jwt.signature.jwks.JwksSignatureConfigurationProperties;
import io.micronaut.security.token.jwt.signature.secret.SecretSignature;
import io.micronaut.security.token.jwt.signature.secret.SecretSignatureConfiguration;
import jakarta.inject.Named;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.Map;

/**
 * The keys user JWTs are checked with: either
 * <ul>
 *   <li>one HS256 key, resolved by {@link JwtSecret} from {@code berth.jwt.secret}
 *       (BERTH_JWT_SECRET) and {@code berth.state-dir} (BERTH_STATE_DIR), the rule {@link TokenCli}
 *       follows; or</li>
 *   <li>when {@code berth.jwt.jwks-url} (BERTH_JWT_JWKS_URL) is set, the RSA keys an identity
 *       provider publishes there (Clerk, Auth0, Keycloak...), fetched and cached by Micronaut's
 *       JWKS support (a {@link JwksSignatureConfiguration} bean gets its {@code ReactiveJwksSignature}).
 *       Then no HS256 key is accepted: the provider is the only issuer.</li>
 * </ul>
 * Eager ({@code @Context}): a short secret or a malformed URL stops the API at startup.
 */
@Factory
public class JwtSignature {
  static final String JWKS_URL = "berth.jwt.jwks-url";
  static final String PROVIDER = "berth-idp";

  @Context
  @Named("berth")
  @Requires(condition = NoJwks.class)
  SignatureConfiguration berthSignature(@Nullable @Value("${berth.jwt.secret:}") String secret,
                                        @Nullable @Value("${berth.state-dir:}") String stateDir) {
    Map<String, String> env = new HashMap<>();
    env.put(JwtSecret.ENV_SECRET, secret);
    env.put(JwtSecret.ENV_STATE_DIR, stateDir);
    SecretSignatureConfiguration config = new SecretSignatureConfiguration("berth");
    config.setJwsAlgorithm(JWSAlgorithm.HS256);
    config.setSecret(JwtSecret.resolve(env));
    return new SecretSignature(config);
  }

  @Context
  @Named(PROVIDER)
  @Requires(condition = Jwks.class)
  JwksSignatureConfiguration identityProvider(@Value("${" + JWKS_URL + "}") String url) {
    JwksSignatureConfigurationProperties config = new JwksSignatureConfigurationProperties(PROVIDER);
    config.setUrl(checkedUrl(url.trim()));
    return config;
  }

  /** An absolute http(s) URL; anything else would only fail later, at the first request. */
  static String checkedUrl(String url) {
    try {
      URI u = new URI(url);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
      if ((scheme.equals("http") || scheme.equals("https")) && u.getHost() != null) {
        return u.toString();
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw new IllegalStateException(JWKS_URL + " (BERTH_JWT_JWKS_URL) must be an http(s) URL, got '" + url + "'");
  }

  static boolean jwksConfigured(ConditionContext<?> context) {
    return context.getProperty(JWKS_URL, String.class).filter(s -> !s.isBlank()).isPresent();
  }

  /** BERTH_JWT_JWKS_URL is set. */
  public static final class Jwks implements Condition {
    @Override
    public boolean matches(ConditionContext context) {
      return jwksConfigured(context);
    }
  }

  /** BERTH_JWT_JWKS_URL is unset or blank: the HS256 key. */
  public static final class NoJwks implements Condition {
    @Override
    public boolean matches(ConditionContext context) {
      return !jwksConfigured(context);
    }
  }
}
