package io.berth.workflows;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * User ids, workspace keys and the DNS labels derived from them. A label is what reaches file
 * names, Nginx configs and DNS: lowercase {@code [a-z0-9-]}, at most 63 chars, always ending in a
 * short hash of the full key so that two keys that slug alike never share a label.
 *
 * <p>A workspace key is a workspace's identity everywhere inside Berth (workflow id, Redis keys,
 * label, owner tag, heartbeat token): the user id itself for the user's default workspace (as
 * before named workspaces existed), or {@code <user>#<name>} for a named one. New user ids may
 * not hold {@code #} ({@link #validUser}), so the two never collide.
 */
public final class Labels {
  public static final int MAX_USER_LENGTH = 128;
  private static final int SLUG_LENGTH = 40;
  /** Printable, no whitespace other than plain spaces, no control characters. */
  private static final Pattern USER = Pattern.compile("[\\p{Graph} ]{1," + MAX_USER_LENGTH + "}");
  /** A workspace name: what a user may call their second, third... workspace. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9]{1,16}");
  public static final char KEY_SEPARATOR = '#';
  public static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private Labels() {}

  /**
   * A user id as the API accepts it (a JWT's {@code sub}): printable, at most
   * {@value #MAX_USER_LENGTH} chars, and no {@code #}, which separates a user from a workspace name.
   */
  public static boolean validUser(String user) {
    return anyUser(user) && user.indexOf(KEY_SEPARATOR) < 0;
  }

  public static boolean validName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /**
   * What internal code accepts as a workspace key: any id a user could have before named
   * workspaces (so workspaces of an older id holding {@code #} still tear down), or
   * {@code <user>#<name>} with a valid user and name.
   */
  public static boolean validKey(String key) {
    if (anyUser(key)) {
      return true;
    }
    if (key == null) {
      return false;
    }
    int i = key.indexOf(KEY_SEPARATOR);
    return i > 0 && validUser(key.substring(0, i)) && validName(key.substring(i + 1));
  }

  /** The key of a user's workspace: the user id for the default one (name null), else {@code <user>#<name>}. */
  public static String workspaceKey(String user, String name) {
    if (!validUser(user)) {
      throw new IllegalArgumentException("invalid user id");
    }
    if (name == null) {
      return user;
    }
    if (!validName(name)) {
      throw new IllegalArgumentException("invalid workspace name");
    }
    return user + KEY_SEPARATOR + name;
  }

  /** The user a workspace key belongs to: the part before the first {@code #}. */
  public static String userOf(String key) {
    int i = key.indexOf(KEY_SEPARATOR);
    return i < 0 ? key : key.substring(0, i);
  }

  /** The workspace's name, null for a user's default workspace. */
  public static String nameOf(String key) {
    int i = key.indexOf(KEY_SEPARATOR);
    return i < 0 ? null : key.substring(i + 1);
  }

  private static boolean anyUser(String user) {
    return user != null && USER.matcher(user).matches() && !user.isBlank();
  }

  /** The label of a workspace key; throws IllegalArgumentException for a key that {@link #validKey} rejects. */
  public static String labelFor(String user) {
    if (!validKey(user)) {
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
