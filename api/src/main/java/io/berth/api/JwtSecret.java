package io.berth.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/**
 * Where the HS256 key for user JWTs comes from, shared by the API and {@link TokenCli}:
 * {@code BERTH_JWT_SECRET} if set, else the file {@code $BERTH_STATE_DIR/jwt-secret} (state dir
 * {@code .berth} by default), created with 32 random bytes (base64, mode 600) when missing. The
 * key is the UTF-8 bytes of the secret text, at least 32 of them (HS256 needs 256 bits).
 */
public final class JwtSecret {
  public static final String ENV_SECRET = "BERTH_JWT_SECRET";
  public static final String ENV_STATE_DIR = "BERTH_STATE_DIR";
  public static final String DEFAULT_STATE_DIR = ".berth";
  public static final String FILE_NAME = "jwt-secret";
  public static final int MIN_BYTES = 32;

  private JwtSecret() {}

  /** Never returns a short secret: throws IllegalStateException with a message that says what to fix. */
  public static String resolve(Map<String, String> env) {
    String explicit = env.get(ENV_SECRET);
    if (explicit != null && !explicit.isEmpty()) {
      return checked(explicit, ENV_SECRET);
    }
    String dir = env.get(ENV_STATE_DIR);
    Path file = Path.of(dir == null || dir.isBlank() ? DEFAULT_STATE_DIR : dir).resolve(FILE_NAME);
    try {
      if (!Files.exists(file)) {
        create(file);
      }
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or create the JWT secret file " + file + " (" + e.getMessage()
          + "); set " + ENV_SECRET + " to a secret of at least " + MIN_BYTES + " bytes instead", e);
    }
  }

  private static String checked(String secret, String source) {
    int bytes = secret.getBytes(StandardCharsets.UTF_8).length;
    if (bytes < MIN_BYTES) {
      throw new IllegalStateException("the JWT secret from " + source + " has " + bytes + " bytes; HS256 needs at least "
          + MIN_BYTES + " (for example: head -c 32 /dev/urandom | base64)");
    }
    return secret;
  }

  private static void create(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String text = Base64.getEncoder().encodeToString(random) + "\n";
    // Written under a temporary name with mode 600 from the start, then moved: no reader ever sees a partial or open file.
    Path tmp = Files.createTempFile(dir, ".jwt-secret", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
      try {
        Files.move(tmp, file); // no REPLACE_EXISTING: when two processes race, the first file wins
      } catch (FileAlreadyExistsException lost) {
        // another process created it meanwhile; use theirs
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
