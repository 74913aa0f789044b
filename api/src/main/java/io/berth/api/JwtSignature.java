package io.berth.api;

import com.nimbusds.jose.JWSAlgorithm;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.security.token.jwt.signature.SignatureConfiguration;
import io.micronaut.security.token.jwt.signature.secret.SecretSignature;
import io.micronaut.security.token.jwt.signature.secret.SecretSignatureConfiguration;
import jakarta.inject.Named;
import java.util.HashMap;
import java.util.Map;

/**
 * The one HS256 key user JWTs are checked with, resolved by {@link JwtSecret} from the properties
 * {@code berth.jwt.secret} (BERTH_JWT_SECRET) and {@code berth.state-dir} (BERTH_STATE_DIR), the
 * same rule {@link TokenCli} follows. Eager ({@code @Context}): a short secret stops the API at startup.
 */
@Factory
public class JwtSignature {

  @Context
  @Named("berth")
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
}
