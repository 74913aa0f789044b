package io.berth.workflows.capacity;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.BitSet;

/**
 * A schedule's cron read as the hours of the week it covers. Five fields as cron spells them
 * (minute, hour, day of month, month, day of week); as in Coder's prebuild schedules, minute, day of
 * month and month must be {@code *}: a schedule holds for whole hours on days of the week, which
 * makes two schedules' overlap decidable. Hour 0-23, day of week 0-7 (0 and 7 are Sunday); each
 * takes {@code *}, a value, a range {@code a-b}, a step {@code /n} and lists with commas.
 */
public final class WeekHours {
  public static final int HOURS = 7 * 24;
  private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

  private final String cron;
  private final BitSet hours;

  private WeekHours(String cron, BitSet hours) {
    this.cron = cron;
    this.hours = hours;
  }

  /** Throws IllegalArgumentException saying what is wrong with the cron. */
  public static WeekHours parse(String cron) {
    String[] f = cron == null ? new String[0] : cron.trim().split("\\s+");
    if (f.length != 5) {
      throw new IllegalArgumentException("cron '" + cron + "' must have 5 fields: minute hour day-of-month month"
          + " day-of-week");
    }
    if (!f[0].equals("*") || !f[2].equals("*") || !f[3].equals("*")) {
      throw new IllegalArgumentException("cron '" + cron + "': minute, day of month and month must be * (a schedule"
          + " names hours on days of the week, e.g. '* 8-18 * * 1-5')");
    }
    BitSet h = field(cron, "hour", f[1], 0, 23);
    BitSet d = field(cron, "day of week", f[4], 0, 7);
    if (d.get(7)) {
      d.set(0);
    }
    BitSet hours = new BitSet(HOURS);
    for (int day = 0; day < 7; day++) { // 0 = Monday here
      int cronDay = (day + 1) % 7;
      if (d.get(cronDay)) {
        for (int hour = h.nextSetBit(0); hour >= 0; hour = h.nextSetBit(hour + 1)) {
          hours.set(day * 24 + hour);
        }
      }
    }
    return new WeekHours(cron.trim(), hours);
  }

  private static BitSet field(String cron, String name, String spec, int min, int max) {
    BitSet out = new BitSet(max + 1);
    for (String part : spec.split(",", -1)) {
      String range = part;
      int step = 1;
      int slash = part.indexOf('/');
      if (slash >= 0) {
        range = part.substring(0, slash);
        step = number(cron, name, part.substring(slash + 1), 1, max);
      }
      int from;
      int to;
      if (range.equals("*")) {
        from = min;
        to = max;
      } else if (range.contains("-")) {
        String[] ab = range.split("-", 2);
        from = number(cron, name, ab[0], min, max);
        to = number(cron, name, ab[1], min, max);
        if (from > to) {
          throw new IllegalArgumentException("cron '" + cron + "': " + name + " range " + range + " runs backwards");
        }
      } else {
        from = number(cron, name, range, min, max);
        to = slash >= 0 ? max : from;
      }
      for (int v = from; v <= to; v += step) {
        out.set(v);
      }
    }
    return out;
  }

  private static int number(String cron, String name, String s, int min, int max) {
    try {
      int v = Integer.parseInt(s);
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new IllegalArgumentException("cron '" + cron + "': " + name + " '" + s + "' is not a number from " + min
        + " to " + max);
  }

  public String cron() {
    return cron;
  }

  /** Whether the hour of the week that holds {@code at}, in {@code zone}, is covered. */
  public boolean covers(long atMillis, ZoneId zone) {
    ZonedDateTime t = Instant.ofEpochMilli(atMillis).atZone(zone);
    return hours.get(hourOfWeek(t.getDayOfWeek(), t.getHour()));
  }

  /** The first hour of the week both cover, as "Mon 09:00", or null when they share none. */
  public String firstOverlap(WeekHours other) {
    BitSet both = (BitSet) hours.clone();
    both.and(other.hours);
    int first = both.nextSetBit(0);
    return first < 0 ? null : String.format("%s %02d:00", DAYS[first / 24], first % 24);
  }

  private static int hourOfWeek(DayOfWeek day, int hour) {
    return (day.getValue() - 1) * 24 + hour;
  }

  @Override
  public String toString() {
    return cron;
  }
}
