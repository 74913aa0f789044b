package io.berth.stack.bench;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The arithmetic of {@code ./berth bench demand}: spare-host-hours, warm-hit ratios, the goal. */
final class DemandMetrics {
  /** The goal: this warm-hit ratio, with this much less idle capacity than the fixed count that matches it. */
  static final double GOAL_WARM = 0.99;
  static final double GOAL_SAVING = 0.30;

  private DemandMetrics() {}

  /**
   * Idle spare capacity as a step function of the workflow clock: a sample holds until the next
   * one, so hours = Σ count × time to the next sample, up to {@link #closeAt}.
   */
  static final class SpareHours {
    private long lastAt = -1;
    private int lastCount;
    private double hostMillis;
    private int peak;

    void sample(long atMillis, int count) {
      if (lastAt >= 0 && atMillis > lastAt) {
        hostMillis += (double) lastCount * (atMillis - lastAt);
      }
      if (lastAt < 0 || atMillis >= lastAt) {
        lastAt = atMillis;
        lastCount = count;
      }
      peak = Math.max(peak, count);
    }

    /** The last sample holds until {@code atMillis}; nothing is counted after it. */
    void closeAt(long atMillis) {
      sample(atMillis, 0);
    }

    double hours() {
      return hostMillis / 3_600_000.0;
    }

    int peak() {
      return peak;
    }
  }

  /** One strategy's outcome. {@code fixedSpares}: the count of a fixed strategy, or -1. */
  record Outcome(String strategy, int fixedSpares, int arrivals, int warm, int failed, double p95Millis,
                 double spareHours) {
    double warmRatio() {
      return arrivals == 0 ? 0 : (double) warm / arrivals;
    }
  }

  /**
   * Whether {@code demand} meets the goal: at least {@link #GOAL_WARM} warm hits, and at least
   * {@link #GOAL_SAVING} fewer spare-host-hours than the smallest fixed count whose warm-hit ratio
   * is at least as high. {@code match} is empty when no fixed count reached it.
   */
  record Goal(Outcome demand, Optional<Outcome> match, double saving, boolean met) {
    String line() {
      String ratio = pct(demand.warmRatio());
      if (match.isEmpty()) {
        return String.format("goal **not shown**: %s has %s warm hits and no fixed count reaches that ratio, so "
            + "there is no fixed count to compare its %.1f spare-host-hours with", demand.strategy(), ratio,
            demand.spareHours());
      }
      Outcome f = match.get();
      return String.format("goal **%s**: %s has %s warm hits (goal ≥ %s) with %.1f spare-host-hours; the smallest fixed "
              + "count that reaches its warm-hit ratio is %s (%s warm, %.1f spare-host-hours): %s%% fewer (goal ≥ %s%%)",
          met ? "met" : "missed", demand.strategy(), ratio, pct(GOAL_WARM), demand.spareHours(), f.strategy(),
          pct(f.warmRatio()), f.spareHours(), String.format("%.0f", 100 * saving), String.format("%.0f", 100 * GOAL_SAVING));
    }
  }

  static Goal goal(Outcome demand, List<Outcome> outcomes) {
    Optional<Outcome> match = outcomes.stream().filter(o -> o.fixedSpares() >= 0)
        .filter(o -> o.warm() * (long) demand.arrivals() >= (long) demand.warm() * o.arrivals())
        .min(Comparator.comparingInt(Outcome::fixedSpares));
    double saving = match.map(f -> f.spareHours() <= 0 ? 0 : 1 - demand.spareHours() / f.spareHours()).orElse(0.0);
    boolean met = match.isPresent() && demand.warmRatio() >= GOAL_WARM && saving >= GOAL_SAVING;
    return new Goal(demand, match, saving, met);
  }

  static String pct(double ratio) {
    return String.format("%.1f %%", 100 * ratio);
  }
}
