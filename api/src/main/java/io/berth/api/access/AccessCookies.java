package io.berth.api.access;

import io.berth.workflows.Labels;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The workspace cookie {@value #NAME}: {@code v1.<label>.<workspaceId>.<expiry>.<user>.<mac>},
 * user and mac in base64url, mac = HMAC-SHA256 over user, workspace id, label and expiry (epoch
 * seconds) with the gateway secret ({@link GatewaySecret}). It proves that the API let this user
 * into this workspace on this host; whether the workspace is still theirs is checked against
 * Redis on every request ({@link WorkspaceAccess}).
 *
 * <p>{@code berth.gateway.auth} ({@code BERTH_WORKSPACE_AUTH}) is {@code cookie} (default) or
 * {@code none}; with {@code none} no key is resolved and Nginx asks nothing. Eager, so a bad mode
 * or a short secret stops the API at startup.
 */
@Context
public class AccessCookies {
  public static final String NAME = "berth_ws";
  private static final String VERSION = "v1";
  private static final int MAX_VALUE_LENGTH = 1024;
  /** A request carrying more cookies of this name than this is not worth more HMACs. */
  private static final int MAX_VALUES = 4;
  private static final Pattern WORKSPACE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
  private static final Pattern EXPIRY = Pattern.compile("\\d{1,12}");

  /** What a valid cookie says. */
  public record Grant(String user, String workspaceId, String label, long expiresAtSeconds) {}

  private final boolean enabled;
  private final SecretKeySpec key;

  public AccessCookies(@Value("${berth.gateway.auth:cookie}") String auth,
                       @Nullable @Value("${berth.gateway.secret:}") String secret,
                       @Nullable @Value("${berth.state-dir:}") String stateDir) {
    String mode = auth == null ? "" : auth.trim().toLowerCase(Locale.ROOT);
    if (!mode.isEmpty() && !mode.equals("cookie") && !mode.equals("none")) {
      throw new IllegalStateException("berth.gateway.auth (BERTH_WORKSPACE_AUTH) must be cookie or none, got '" + auth
          + "'");
    }
    this.enabled = !mode.equals("none");
    if (enabled) {
      Map<String, String> env = new HashMap<>();
      env.put(GatewaySecret.ENV_SECRET, secret);
      env.put(StateSecret.ENV_STATE_DIR, stateDir);
      this.key = new SecretKeySpec(GatewaySecret.resolve(env).getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    } else {
      this.key = null;
    }
  }

  /** False for {@code none}: workspaces are open to anyone with the URL. */
  public boolean enabled() {
    return enabled;
  }

  public String mint(Grant g) {
    if (!Labels.validKey(g.user()) || !Labels.validLabel(g.label()) || !WORKSPACE_ID.matcher(g.workspaceId()).matches()
        || g.expiresAtSeconds() <= 0) {
      throw new IllegalArgumentException("cannot mint a cookie for malformed values");
    }
    String exp = Long.toString(g.expiresAtSeconds());
    return String.join(".", VERSION, g.label(), g.workspaceId(), exp, b64(g.user().getBytes(StandardCharsets.UTF_8)),
        b64(mac(g.user(), g.workspaceId(), g.label(), exp)));
  }

  /** The grant of a well-formed, correctly signed, unexpired cookie value; empty otherwise. */
  public Optional<Grant> read(String value, long nowSeconds) {
    if (!enabled || value == null || value.length() > MAX_VALUE_LENGTH) {
      return Optional.empty();
    }
    String[] p = value.split("\\.", -1);
    if (p.length != 6 || !VERSION.equals(p[0]) || !Labels.validLabel(p[1]) || !WORKSPACE_ID.matcher(p[2]).matches()
        || !EXPIRY.matcher(p[3]).matches()) {
      return Optional.empty();
    }
    String user;
    byte[] mac;
    try {
      user = new String(Base64.getUrlDecoder().decode(p[4]), StandardCharsets.UTF_8);
      mac = Base64.getUrlDecoder().decode(p[5]);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!Labels.validKey(user) || !MessageDigest.isEqual(mac, mac(user, p[2], p[1], p[3]))) {
      return Optional.empty();
    }
    long exp = Long.parseLong(p[3]);
    return exp > nowSeconds ? Optional.of(new Grant(user, p[2], p[1], exp)) : Optional.empty();
  }

  /** The values of the {@value #NAME} cookies in a Cookie header (a browser may send more than one), at most a few. */
  static List<String> values(@Nullable String cookieHeader) {
    List<String> out = new ArrayList<>();
    if (cookieHeader == null) {
      return out;
    }
    for (String pair : cookieHeader.split(";")) {
      String t = pair.trim();
      if (t.startsWith(NAME + "=")) {
        String v = t.substring(NAME.length() + 1);
        out.add(v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v);
        if (out.size() == MAX_VALUES) {
          break;
        }
      }
    }
    return out;
  }

  private byte[] mac(String user, String workspaceId, String label, String exp) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      // user last: it is the only part that may hold any printable character, '|' included
      return m.doFinal(String.join("|", "berth-ws", VERSION, label, workspaceId, exp, user)
          .getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
