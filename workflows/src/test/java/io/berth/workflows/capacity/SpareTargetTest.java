package io.berth.workflows.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.capacity.SpareTarget.Target;
import io.berth.workflows.model.DemandLog;
import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.SpareRules;
import io.berth.workflows.model.SpareSchedule;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spare target on its own: rules, a demand log and a time in, a count and its rule out. */
class SpareTargetTest {
  private static final long MIN = 60_000L;
  /** Monday 2026-03-02, 10:00 in Paris (09:00 UTC). */
  private static final long MONDAY_10_PARIS = Instant.parse("2026-03-02T09:00:00Z").toEpochMilli();
  private static final List<SpareSchedule> WEEK = List.of(
      new SpareSchedule("workday", "* 8-17 * * 1-5", 6),
      new SpareSchedule("evening", "* 18-21 * * 1-5", 3));

  private static SpareRules rules(DemandRule demand) {
    return new SpareRules(2, "Europe/Paris", WEEK, demand);
  }

  @Test
  void baseOutsideEverySchedule() {
    long saturday = MONDAY_10_PARIS + 5 * 24 * 60 * MIN;
    Target t = SpareTarget.of(rules(null), null, saturday);
    assertEquals(new Target(2, "base 2"), t);
    assertEquals("base 2", t.key());
  }

  @Test
  void theScheduleThatCoversTheHourInItsTimeZone() {
    assertEquals(new Target(6, "schedule 'workday' (* 8-17 * * 1-5 Europe/Paris) 6"),
        SpareTarget.of(rules(null), null, MONDAY_10_PARIS));
    // 18:30 in Paris is 17:30 UTC: the evening, not the workday's last hour.
    Target evening = SpareTarget.of(rules(null), null, MONDAY_10_PARIS + 8 * 60 * MIN + 30 * MIN);
    assertEquals(3, evening.spares());
    assertTrue(evening.rule().startsWith("schedule 'evening'"), evening::rule);
  }

  @Test
  void withoutATimeZoneTheSchedulesReadUtc() {
    SpareRules utc = new SpareRules(1, null, WEEK, null);
    // 08:30 UTC Monday: the workday in UTC (it is 09:30 in Paris either way).
    assertEquals(6, SpareTarget.of(utc, null, MONDAY_10_PARIS - 30 * MIN).spares());
    // 07:30 UTC: before the UTC workday.
    assertEquals(1, SpareTarget.of(utc, null, MONDAY_10_PARIS - 90 * MIN).spares());
  }

  @Test
  void aFixedCountIsItsBase() {
    assertEquals(new Target(3, "base 3"), SpareTarget.of(SpareRules.fixed(3), DemandLog.empty(), MONDAY_10_PARIS));
  }

  @Test
  void claimsOfTheLastFiveMinutesOverTheHorizon() {
    long now = 100 * MIN;
    DemandLog log = DemandLog.empty().withClaimsTotal(now - 6 * MIN, 40).withClaimsTotal(now - 5 * MIN, 40)
        .withClaimsTotal(now, 52);
    SpareRules r = new SpareRules(1, null, List.of(), new DemandRule(Duration.ofMinutes(5), 20));
    // 12 claims in 5 min: 2.4 a minute, times 5 minutes = 12.
    Target t = SpareTarget.of(r, log, now);
    assertEquals(12, t.spares());
    assertEquals("demand 12", t.key());
    assertTrue(t.rule().contains("12 claims in 5 min") && t.rule().contains("0 misses in 5 min"), t::rule);
  }

  @Test
  void theHighestRateOfTheThreeWindowsRoundedUp() {
    long now = 200 * MIN;
    // 30 claims an hour ago, none since: 0.5 a minute over 60 min, times a 3 min horizon = 1.5 → 2.
    DemandLog log = DemandLog.empty().withClaimsTotal(now - 60 * MIN, 10).withClaimsTotal(now - 50 * MIN, 40)
        .withClaimsTotal(now, 40);
    SpareRules r = new SpareRules(0, null, List.of(), new DemandRule(Duration.ofMinutes(3), 20));
    Target t = SpareTarget.of(r, log, now);
    assertEquals(2, t.spares(), t::rule);
    assertTrue(t.rule().contains("30 claims in 60 min"), t::rule);
  }

  @Test
  void missesOfTheLastFiveMinutesAddOneEach() {
    long now = 300 * MIN;
    DemandLog log = DemandLog.empty().withMiss(now - 6 * MIN).withMiss(now - 4 * MIN).withMiss(now - MIN)
        .withMiss(now);
    SpareRules r = new SpareRules(1, null, List.of(), new DemandRule(Duration.ofMinutes(5), 20));
    Target t = SpareTarget.of(r, log, now);
    assertEquals(3, t.spares(), t::rule);
    assertTrue(t.rule().contains("3 misses in 5 min"), t::rule);
  }

  @Test
  void theDemandTermIsCappedAtItsMax() {
    long now = 300 * MIN;
    DemandLog log = DemandLog.empty().withClaimsTotal(now - 5 * MIN, 0).withClaimsTotal(now, 100);
    SpareRules r = new SpareRules(1, null, List.of(), new DemandRule(Duration.ofMinutes(5), 20));
    Target t = SpareTarget.of(r, log, now);
    assertEquals(20, t.spares());
    assertEquals("demand 20 (max 20)", t.key());
  }

  @Test
  void aScheduleHigherThanTheDemandTermWins() {
    DemandLog log = DemandLog.empty().withMiss(MONDAY_10_PARIS);
    Target t = SpareTarget.of(rules(new DemandRule(Duration.ofMinutes(5), 20)), log, MONDAY_10_PARIS);
    assertEquals(6, t.spares());
    assertTrue(t.rule().startsWith("schedule 'workday'"), t::rule);
  }

  @Test
  void theKeyLeavesOutTheInputs() {
    assertEquals("demand 9", new Target(9, "demand 9: 12 claims in 5 min").key());
  }

  // ---- the demand log ----

  @Test
  void aTotalThatWentDownStartsTheSamplesOver() {
    DemandLog log = DemandLog.empty().withClaimsTotal(0, 50).withClaimsTotal(MIN, 60).withClaimsTotal(2 * MIN, 3);
    assertEquals(List.of(new DemandLog.ClaimSample(2 * MIN, 3)), log.claims());
    assertEquals(0, log.claimsSince(0));
  }

  @Test
  void samplesAreSpacedAndKeptForAnHourAndBounded() {
    DemandLog passes = DemandLog.empty();
    for (long t = 0; t <= 3 * 60 * MIN; t += 1_000) { // a pass a second for three hours, a claim a second
      passes = passes.withClaimsTotal(t, t / 1_000);
    }
    DemandLog log = passes;
    long now = 3 * 60 * MIN;
    assertTrue(log.claims().size() <= DemandLog.MAX_SAMPLES, () -> "samples kept: " + log.claims().size());
    assertTrue(log.claims().get(1).atMillis() > now - DemandLog.KEPT_MILLIS, "nothing older than the hour...");
    assertTrue(log.claims().get(0).atMillis() <= now - DemandLog.KEPT_MILLIS, "...but the baseline before it");
    assertEquals(300, log.claimsSince(now - 5 * MIN), "a claim a second: 300 in 5 minutes");
  }

  @Test
  void missesAreKeptForAnHourAndBounded() {
    DemandLog log = DemandLog.empty();
    for (int i = 0; i < 2 * DemandLog.MAX_MISSES; i++) {
      log = log.withMiss(i);
    }
    assertEquals(DemandLog.MAX_MISSES, log.misses().size());
    DemandLog later = log.withMiss(2 * DemandLog.KEPT_MILLIS);
    assertEquals(List.of(2 * DemandLog.KEPT_MILLIS), later.misses());
  }
}
