package io.berth.agent;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The flat JSON objects the agent reads and writes: string and integer fields, no nesting. */
final class Json {
  private static final Pattern FIELD =
      Pattern.compile("\"([A-Za-z]+)\"\\s*:\\s*(-?\\d+|\"((?:[^\"\\\\]|\\\\.)*)\")");

  private Json() {}

  /** The top-level string and integer fields of {@code body}, strings unescaped. */
  static Map<String, String> fields(String body) {
    Map<String, String> fields = new HashMap<>();
    Matcher m = FIELD.matcher(body);
    while (m.find()) {
      fields.put(m.group(1), m.group(3) != null ? unescape(m.group(3)) : m.group(2));
    }
    return fields;
  }

  static String string(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> out.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
      }
    }
    return out.append('"').toString();
  }

  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char next = s.charAt(++i);
      switch (next) {
        case 'u' -> {
          out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
        }
        case 'n' -> out.append('\n');
        case 't' -> out.append('\t');
        case 'r' -> out.append('\r');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        default -> out.append(next);
      }
    }
    return out.toString();
  }
}
