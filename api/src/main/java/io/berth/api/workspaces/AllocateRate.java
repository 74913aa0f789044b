package io.berth.api.workspaces;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A per-user quota such as {@code 10/min} (allocations, extends, launch links); {@code limit == 0} means no quota. */
public record AllocateRate(int limit, Duration period) {
  private static final Pattern FORM = Pattern.compile("(\\d{1,9})\\s*/\\s*(\\d*)\\s*(s|sec|second|m|min|minute|h|hour)");

  public static AllocateRate parse(String text) {
    return parse(text, "allocate rate");
  }

  /** {@code name} says which setting was malformed. */
  public static AllocateRate parse(String text, String name) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.isEmpty() || t.equals("off") || t.equals("0")) {
      return new AllocateRate(0, Duration.ofMinutes(1));
    }
    Matcher m = FORM.matcher(t);
    if (!m.matches()) {
      throw new IllegalStateException(name + " must look like 10/min, 3/s, 100/h or off, got '" + text + "'");
    }
    int limit = Integer.parseInt(m.group(1));
    long units = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    Duration unit = switch (m.group(3)) {
      case "s", "sec", "second" -> Duration.ofSeconds(1);
      case "m", "min", "minute" -> Duration.ofMinutes(1);
      default -> Duration.ofHours(1);
    };
    if (units < 1) {
      throw new IllegalStateException(name + " period must be positive, got '" + text + "'");
    }
    return new AllocateRate(limit, unit.multipliedBy(units));
  }

  public boolean enabled() {
    return limit > 0;
  }

  /** Back in the configuration's own words, e.g. {@code 10/min}. */
  public String describe() {
    long s = period.toSeconds();
    return limit + "/" + (s % 3600 == 0 ? unit(s / 3600, "h") : s % 60 == 0 ? unit(s / 60, "min") : unit(s, "s"));
  }

  private static String unit(long n, String name) {
    return n == 1 ? name : n + name;
  }
}
