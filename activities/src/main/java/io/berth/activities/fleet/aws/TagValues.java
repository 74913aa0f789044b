package io.berth.activities.fleet.aws;

import java.nio.charset.StandardCharsets;

/**
 * User ids as EC2 tag values. AWS allows letters, digits, spaces and {@code _ . : / = + - @}
 * (at most 256 chars) while Berth user ids may hold any printable ASCII. Allowed characters pass
 * through (so {@code alice@example.com} stays readable in the console); every other byte,
 * {@code =} itself included, becomes {@code =XX} (upper-case hex), so decoding is exact. A user
 * id literally spelled {@code UNASSIGNED} is encoded {@code =55NASSIGNED} so it never reads as
 * the sentinel. Ids whose encoding exceeds 256 chars are rejected.
 */
final class TagValues {
  static final String UNASSIGNED = "UNASSIGNED";
  static final int MAX_LENGTH = 256;

  private TagValues() {}

  /** The tag value for an owner, null meaning UNASSIGNED; null when the encoding does not fit a tag. */
  static String encode(String user) {
    if (user == null) {
      return UNASSIGNED;
    }
    StringBuilder out = new StringBuilder();
    for (byte b : user.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if (plain(c)) {
        out.append(c);
      } else {
        out.append('=').append(String.format("%02X", b & 0xFF));
      }
    }
    String v = out.toString();
    if (v.equals(UNASSIGNED)) {
      v = "=55" + v.substring(1);
    }
    return v.length() <= MAX_LENGTH ? v : null;
  }

  /**
   * The owner a tag value names; null for UNASSIGNED or absent. A value Berth did not write (a
   * stray escape, a non-ASCII letter set by hand) is returned as it is: it still names an owner,
   * and a slot with an owner is never mistaken for a spare.
   */
  static String decode(String value) {
    if (value == null || value.isEmpty() || UNASSIGNED.equals(value)) {
      return null;
    }
    byte[] out = new byte[value.length()];
    int n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '=') {
        if (i + 2 >= value.length() || !hex(value.charAt(i + 1)) || !hex(value.charAt(i + 2))) {
          return value;
        }
        out[n++] = (byte) Integer.parseInt(value.substring(i + 1, i + 3), 16);
        i += 2;
      } else if (c > 127) {
        return value;
      } else {
        out[n++] = (byte) c;
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }

  private static boolean hex(char c) {
    return c >= '0' && c <= '9' || c >= 'A' && c <= 'F';
  }

  private static boolean plain(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "_.:/+-@ ".indexOf(c) >= 0;
  }
}
