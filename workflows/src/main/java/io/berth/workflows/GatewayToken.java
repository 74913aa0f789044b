package io.berth.workflows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What tells the gateway (Nginx) apart from anyone else who calls the API's {@code /api/gateway/*}
 * endpoints: Nginx sends it in {@value #HEADER} on every subrequest to the API, and the API
 * answers those endpoints only when it matches. A workspace process shares the machine's loopback
 * with the API, so an address check proves nothing; this token lives where no workspace can read
 * it (the state directory, mode 600, or the environment of the API and of Nginx).
 *
 * <p>From {@value #ENV} when set, else the file {@code $BERTH_STATE_DIR/}{@value #FILE_NAME},
 * created with 32 random bytes when missing (the worker, which writes Nginx's config, and the API
 * read the same file). It reaches an Nginx config, so only {@code [A-Za-z0-9_-]} is accepted.
 */
public final class GatewayToken {
  public static final String HEADER = "X-Berth-Gateway-Token";
  public static final String ENV = "BERTH_GATEWAY_TOKEN";
  public static final String FILE_NAME = "gateway-token";
  /** The Nginx variable the main config (or an external Nginx's http block) defines with the token. */
  public static final String NGINX_VARIABLE = "$berth_gateway_token";
  /** The line each location that proxies to {@code /api/gateway/*} carries. */
  public static final String NGINX_DIRECTIVE = "proxy_set_header " + HEADER + " " + NGINX_VARIABLE + ";";
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{32,256}");

  private GatewayToken() {}

  /** {@code env}: {@value #ENV} and {@code BERTH_STATE_DIR} (default {@code .berth}). */
  public static String resolve(Map<String, String> env) {
    String explicit = env.get(ENV);
    if (explicit != null && !explicit.isBlank()) {
      return checked(explicit.trim(), ENV);
    }
    String dir = env.get("BERTH_STATE_DIR");
    Path file = Path.of(dir == null || dir.isBlank() ? ".berth" : dir).resolve(FILE_NAME);
    try {
      if (!Files.exists(file)) {
        create(file);
      }
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or create the gateway token file " + file + " (" + e.getMessage()
          + "); set " + ENV + " to at least 32 characters of [A-Za-z0-9_-] instead", e);
    }
  }

  /** The Nginx http-block line that defines {@link #NGINX_VARIABLE}. */
  public static String nginxMap(String token) {
    return "map \"\" " + NGINX_VARIABLE + " { default \"" + checked(token, "the token") + "\"; }";
  }

  /** Constant-time comparison; false for a missing header. */
  public static boolean matches(String expected, String given) {
    if (given == null || expected == null) {
      return false;
    }
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  private static String checked(String token, String source) {
    if (!TOKEN.matcher(token).matches()) {
      // The value itself is never part of the message: it may be a real secret with one bad character.
      throw new IllegalStateException("the gateway token from " + source
          + " must be 32 to 256 characters of [A-Za-z0-9_-] (for example: head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')");
    }
    return token;
  }

  private static void create(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String text = Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n";
    // Mode 600 from the start, moved in place: no reader ever sees a partial or open file.
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
      try {
        Files.move(tmp, file); // no REPLACE_EXISTING: when the worker and the API race, the first file wins
      } catch (FileAlreadyExistsException lost) {
        // the other one created it meanwhile; use theirs
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
