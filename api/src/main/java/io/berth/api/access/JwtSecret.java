package io.berth.api.access;

import io.berth.api.TokenCli;
import java.util.Map;

/**
 * Where the HS256 key for user JWTs comes from, shared by the API and {@link TokenCli}:
 * {@code BERTH_JWT_SECRET} if set, else the file {@code $BERTH_STATE_DIR/jwt-secret} (state dir
 * {@code .berth} by default), created with 32 random bytes (base64, mode 600) when missing. The
 * key is the UTF-8 bytes of the secret text, at least 32 of them (HS256 needs 256 bits).
 */
public final class JwtSecret {
  public static final String ENV_SECRET = "BERTH_JWT_SECRET";
  public static final String ENV_STATE_DIR = StateSecret.ENV_STATE_DIR;
  public static final String DEFAULT_STATE_DIR = StateSecret.DEFAULT_STATE_DIR;
  public static final String FILE_NAME = "jwt-secret";
  public static final int MIN_BYTES = StateSecret.MIN_BYTES;
  private static final StateSecret RULE = new StateSecret(ENV_SECRET, FILE_NAME, "JWT secret");

  private JwtSecret() {}

  /** Never returns a short secret: throws IllegalStateException with a message that says what to fix. */
  public static String resolve(Map<String, String> env) {
    return RULE.resolve(env);
  }
}
