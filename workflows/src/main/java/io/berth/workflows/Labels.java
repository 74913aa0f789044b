package io.berth.workflows;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * User ids and the DNS labels derived from them. A label is what reaches file names, Nginx
 * configs and DNS: lowercase {@code [a-z0-9-]}, at most 63 chars, always ending in a short hash of
 * the full user id so that two ids that slug alike never share a label.
 */
public final class Labels {
  public static final int MAX_USER_LENGTH = 128;
  private static final int SLUG_LENGTH = 40;
  /** Printable, no whitespace other than plain spaces, no control characters. */
  private static final Pattern USER = Pattern.compile("[\\p{Graph} ]{1," + MAX_USER_LENGTH + "}");
  public static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private Labels() {}

  public static boolean validUser(String user) {
    return user != null && USER.matcher(user).matches() && !user.isBlank();
  }

  /** Throws IllegalArgumentException for a user id that {@link #validUser} rejects. */
  public static String labelFor(String user) {
    if (!validUser(user)) {
      throw new IllegalArgumentException("invalid user id");
    }
    String slug = user.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    if (slug.length() > SLUG_LENGTH) {
      slug = slug.substring(0, SLUG_LENGTH).replaceAll("-+$", "");
    }
    String hash = sha256Hex(user).substring(0, 8);
    return slug.isEmpty() ? "u-" + hash : slug + "-" + hash;
  }

  public static boolean validLabel(String label) {
    return label != null && LABEL.matcher(label).matches();
  }

  public static String sha256Hex(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
