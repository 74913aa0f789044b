package io.berth.stack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DemandMetricsTest {
  private static final long MIN = 60_000;

  @Test
  void spareHoursIntegrateEachSampleUntilTheNext() {
    DemandMetrics.SpareHours h = new DemandMetrics.SpareHours();
    h.sample(0, 4);          // 4 spares for 30 min = 2 h
    h.sample(30 * MIN, 2);   // 2 spares for 90 min = 3 h
    h.sample(120 * MIN, 6);  // 6 spares for 10 min = 1 h
    h.closeAt(130 * MIN);
    assertEquals(6.0, h.hours(), 1e-9);
    assertEquals(6, h.peak());
  }

  @Test
  void aSampleBackInTimeCountsNothing() {
    DemandMetrics.SpareHours h = new DemandMetrics.SpareHours();
    h.sample(60 * MIN, 1);
    h.sample(30 * MIN, 5);
    h.closeAt(120 * MIN);
    assertEquals(1.0, h.hours(), 1e-9);
  }

  @Test
  void p95IsTheNearestRank() {
    double[] ms = new double[100];
    for (int i = 0; i < 100; i++) {
      ms[i] = i + 1;
    }
    assertEquals(95, Stats.of(ms).p(95));
    assertEquals(3, Stats.of(new double[] {3, 1, 2}).p(95));
  }

  @Test
  void theGoalComparesWithTheSmallestFixedCountThatReachesTheRatio() {
    DemandMetrics.Outcome f4 = new DemandMetrics.Outcome("fixed-4", 4, 200, 180, 0, 300, 64);
    DemandMetrics.Outcome f6 = new DemandMetrics.Outcome("fixed-6", 6, 200, 199, 0, 300, 96);
    DemandMetrics.Outcome f8 = new DemandMetrics.Outcome("fixed-8", 8, 200, 200, 0, 300, 128);
    DemandMetrics.Outcome sched = new DemandMetrics.Outcome("sched", -1, 200, 199, 0, 300, 20);
    DemandMetrics.Outcome demand = new DemandMetrics.Outcome("sched-demand", -1, 200, 199, 0, 300, 60);
    DemandMetrics.Goal g = DemandMetrics.goal(demand, List.of(f8, f4, f6, sched, demand));
    assertEquals("fixed-6", g.match().orElseThrow().strategy(), "the schedules are no fixed count");
    assertEquals(1 - 60.0 / 96, g.saving(), 1e-9);
    assertTrue(g.met(), g.line());
    assertTrue(g.line().contains("goal **met**") && g.line().contains("fixed-6"), g.line());
  }

  @Test
  void theGoalIsMissedBelowTheRatioOrTheSaving() {
    DemandMetrics.Outcome f6 = new DemandMetrics.Outcome("fixed-6", 6, 200, 200, 0, 300, 96);
    DemandMetrics.Outcome lowRatio = new DemandMetrics.Outcome("d", -1, 200, 190, 0, 300, 10);
    DemandMetrics.Outcome lowSaving = new DemandMetrics.Outcome("d", -1, 200, 200, 0, 300, 80);
    assertFalse(DemandMetrics.goal(lowRatio, List.of(f6)).met());
    assertFalse(DemandMetrics.goal(lowSaving, List.of(f6)).met());
    DemandMetrics.Goal none = DemandMetrics.goal(lowSaving,
        List.of(new DemandMetrics.Outcome("fixed-2", 2, 200, 150, 0, 300, 30)));
    assertTrue(none.match().isEmpty());
    assertFalse(none.met());
    assertTrue(none.line().contains("not shown"), none.line());
  }

  @Test
  void aWorkspacesTimeToReadyOnTheWorkflowClockSpansItsProgressSteps() {
    String me = "{\"state\":\"READY\",\"steps\":[{\"step\":\"claim\",\"status\":\"running\",\"at\":\"2026-12-07T15:01:00Z\"},"
        + "{\"step\":\"capacity\",\"status\":\"running\",\"at\":\"2026-12-07T15:01:00.010Z\"},"
        + "{\"step\":\"ready\",\"status\":\"done\",\"at\":\"2026-12-07T15:02:30Z\"}]}";
    assertEquals(90_000, DemandScenario.stepsSpan(me), 1e-9);
    assertEquals("1.5 min", DemandScenario.clock(90_000));
    assertTrue(Double.isNaN(DemandScenario.stepsSpan("{}")));
  }
}
