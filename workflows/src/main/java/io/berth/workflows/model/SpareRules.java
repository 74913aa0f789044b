package io.berth.workflows.model;

import java.util.List;

/**
 * How many warm spares a template's pool keeps: {@code base} outside every schedule, each
 * schedule's count while its cron matches (in {@code timeZone}), and the demand term on top when
 * {@code demand} is set. The target is the larger of the schedule's (or base) count and the
 * demand term, capped by the demand's {@code max}; the rule that set it is named in every decision.
 *
 * @param timeZone an IANA zone id the schedules' crons are read in; null means UTC
 * @param demand null: no demand term
 */
public record SpareRules(int base, String timeZone, List<SpareSchedule> schedules, DemandRule demand) {
  public SpareRules {
    schedules = schedules == null ? List.of() : List.copyOf(schedules);
  }

  /** A fixed count, as before schedules and demand existed. */
  public static SpareRules fixed(int spares) {
    return new SpareRules(spares, null, List.of(), null);
  }
}
