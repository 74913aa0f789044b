package io.berth.api.access;

import java.io.IOException;
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
 * A secret from the environment variable {@code envName} if set, else from the file
 * {@code $BERTH_STATE_DIR/<fileName>} (state dir {@code .berth} by default), created with 32
 * random bytes (base64, mode 600) when missing. At least 32 bytes of UTF-8, so that it can key
 * HMAC-SHA256. The JWT key ({@link JwtSecret}) and the gateway cookie key ({@link GatewaySecret})
 * follow this rule.
 */
record StateSecret(String envName, String fileName, String what) {
  static final String ENV_STATE_DIR = "BERTH_STATE_DIR";
  static final String DEFAULT_STATE_DIR = ".berth";
  static final int MIN_BYTES = 32;

  /** Never returns a short secret: throws IllegalStateException with a message that says what to fix. */
  String resolve(Map<String, String> env) {
    String explicit = env.get(envName);
    if (explicit != null && !explicit.isEmpty()) {
      return checked(explicit, envName);
    }
    String dir = env.get(ENV_STATE_DIR);
    Path file = Path.of(dir == null || dir.isBlank() ? DEFAULT_STATE_DIR : dir).resolve(fileName);
    try {
      if (!Files.exists(file)) {
        create(file);
      }
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or create the " + what + " file " + file + " (" + e.getMessage()
          + "); set " + envName + " to a secret of at least " + MIN_BYTES + " bytes instead", e);
    }
  }

  private String checked(String secret, String source) {
    int bytes = secret.getBytes(StandardCharsets.UTF_8).length;
    if (bytes < MIN_BYTES) {
      throw new IllegalStateException("the " + what + " from " + source + " has " + bytes + " bytes; it needs at least "
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
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
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
