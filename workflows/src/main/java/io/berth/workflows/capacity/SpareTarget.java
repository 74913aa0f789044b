package io.berth.workflows.capacity;

import io.berth.workflows.model.DemandLog;
import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.SpareRules;
import io.berth.workflows.model.SpareSchedule;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * How many spares a pool keeps now, and the rule that says so: the schedule whose hours cover now
 * (in the rules' time zone), else {@code base}; with a demand rule, the demand term when it is
 * higher. The demand term is the highest claim rate over the last 5, 15 and 60 minutes times the
 * horizon, rounded up, plus the misses of the last 5 minutes, at most the rule's {@code max} (a
 * schedule or base above it keeps its count). Pure: the controller's planner calls it each pass.
 */
public final class SpareTarget {
  private static final long MINUTE = 60_000L;
  private static final int[] WINDOWS_MINUTES = {5, 15, 60};
  private static final int MISS_WINDOW_MINUTES = 5;

  private SpareTarget() {}

  /**
   * A target and its rule as a short sentence: the rule's name and count, then after a colon the
   * inputs it read ("demand 9: 12 claims in 5 min, ..."). {@link #key} is the part before the colon.
   */
  public record Target(int spares, String rule) {
    /** The rule and its count without its inputs: a target is recorded again only when this changes. */
    public String key() {
      int colon = rule.indexOf(':');
      return colon < 0 ? rule : rule.substring(0, colon);
    }
  }

  public static Target of(SpareRules rules, DemandLog demand, long nowMillis) {
    Target floor = scheduledOrBase(rules, nowMillis);
    if (rules.demand() == null) {
      return floor;
    }
    Target byDemand = demandTerm(rules.demand(), DemandLog.of(demand), nowMillis);
    return byDemand.spares() > floor.spares() ? byDemand : floor;
  }

  private static Target scheduledOrBase(SpareRules rules, long now) {
    ZoneId zone = zoneOf(rules.timeZone());
    for (SpareSchedule s : rules.schedules()) {
      if (covers(s, now, zone)) {
        return new Target(s.spares(), "schedule '" + s.name() + "' (" + s.cron() + " " + zone.getId() + ") "
            + s.spares());
      }
    }
    return new Target(rules.base(), "base " + rules.base());
  }

  /** The templates file was checked at load; a schedule that still does not parse covers nothing. */
  private static boolean covers(SpareSchedule s, long now, ZoneId zone) {
    try {
      return WeekHours.parse(s.cron()).covers(now, zone);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static ZoneId zoneOf(String timeZone) {
    try {
      return timeZone == null ? ZoneOffset.UTC : ZoneId.of(timeZone);
    } catch (DateTimeException e) {
      return ZoneOffset.UTC;
    }
  }

  private static Target demandTerm(DemandRule rule, DemandLog log, long now) {
    long horizon = rule.horizon() == null ? 0 : rule.horizon().toMillis();
    long fromClaims = 0;
    StringBuilder inputs = new StringBuilder();
    for (int minutes : WINDOWS_MINUTES) {
      long claims = log.claimsSince(now - minutes * MINUTE);
      // claims / minutes per minute, times the horizon in minutes, rounded up: in whole numbers.
      fromClaims = Math.max(fromClaims, ceilDiv(claims * horizon, minutes * MINUTE));
      inputs.append(claims).append(" claims in ").append(minutes).append(" min, ");
    }
    int misses = log.missesSince(now - MISS_WINDOW_MINUTES * MINUTE);
    long wanted = fromClaims + misses;
    int spares = (int) Math.min(wanted, rule.max());
    String capped = wanted > rule.max() ? " (max " + rule.max() + ")" : "";
    return new Target(spares, "demand " + spares + capped + ": " + inputs + misses + " misses in "
        + MISS_WINDOW_MINUTES + " min, horizon " + horizonText(horizon));
  }

  private static String horizonText(long millis) {
    return millis % MINUTE == 0 ? millis / MINUTE + " min" : millis / 1000 + " s";
  }

  private static long ceilDiv(long n, long d) {
    return (n + d - 1) / d;
  }
}
