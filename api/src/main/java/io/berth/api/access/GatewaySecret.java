package io.berth.api.access;

import java.util.Map;

/**
 * The key of the workspace cookies ({@link AccessCookie}): {@code BERTH_GATEWAY_SECRET} if set,
 * else the file {@code $BERTH_STATE_DIR/gateway-secret}, created when missing (see
 * {@link StateSecret}). Every API replica must hold the same one: set the variable, or share the
 * state directory. Separate from the JWT key, so that neither can stand in for the other.
 */
public final class GatewaySecret {
  public static final String ENV_SECRET = "BERTH_GATEWAY_SECRET";
  public static final String FILE_NAME = "gateway-secret";
  private static final StateSecret RULE = new StateSecret(ENV_SECRET, FILE_NAME, "gateway secret");

  private GatewaySecret() {}

  public static String resolve(Map<String, String> env) {
    return RULE.resolve(env);
  }
}
