package io.berth.workflows.model;

import java.util.ArrayList;
import java.util.List;

/**
 * What the demand term of the spare target reads, kept in the controller's memory by its own
 * clock (workflow time, so windows follow time skipping too): samples of the store's running count
 * of claims ({@link PassView#claimsTotal}), whose differences are the claims of a window, and the
 * times of misses (a request that found the pool empty). Both are kept for {@link #KEPT_MILLIS} and
 * bounded in number, so the memory stays small across continue-as-new.
 *
 * @param claims samples, oldest first; all but the last at least {@link #SAMPLE_SPACING_MILLIS}
 *     apart, the last is the latest total seen
 * @param misses miss times, oldest first
 */
public record DemandLog(List<ClaimSample> claims, List<Long> misses) {
  public static final long KEPT_MILLIS = 60 * 60_000L;
  public static final long SAMPLE_SPACING_MILLIS = 15_000L;
  /** An hour of samples {@link #SAMPLE_SPACING_MILLIS} apart, the baseline before it and the latest. */
  public static final int MAX_SAMPLES = (int) (KEPT_MILLIS / SAMPLE_SPACING_MILLIS) + 2;
  public static final int MAX_MISSES = 500;

  /** The store's running count of claims, as a pass saw it at {@code atMillis}. */
  public record ClaimSample(long atMillis, long total) {}

  public DemandLog {
    claims = claims == null ? List.of() : List.copyOf(claims);
    misses = misses == null ? List.of() : List.copyOf(misses);
  }

  public static DemandLog empty() {
    return new DemandLog(List.of(), List.of());
  }

  /** A memory from before demand was kept has none: empty. */
  public static DemandLog of(DemandLog log) {
    return log == null ? empty() : log;
  }

  /**
   * Adds the total a pass saw. A total lower than the last one means the store lost its count
   * (Redis lost): the samples start over from it.
   */
  public DemandLog withClaimsTotal(long now, long total) {
    List<ClaimSample> kept = new ArrayList<>(claims);
    if (!kept.isEmpty() && total < kept.get(kept.size() - 1).total()) {
      kept.clear();
    }
    int n = kept.size();
    boolean latestTooClose = n >= 2 && kept.get(n - 1).atMillis() - kept.get(n - 2).atMillis() < SAMPLE_SPACING_MILLIS;
    if (latestTooClose) {
      kept.remove(n - 1); // the latest has not earned its place yet: the new one replaces it
    }
    kept.add(new ClaimSample(now, total));
    // The newest sample older than the hour stays, as the baseline the hour's claims are counted from.
    while (kept.size() > 1 && kept.get(1).atMillis() <= now - KEPT_MILLIS) {
      kept.remove(0);
    }
    while (kept.size() > MAX_SAMPLES) {
      kept.remove(0);
    }
    return new DemandLog(kept, recentMisses(misses, now));
  }

  public DemandLog withMiss(long now) {
    List<Long> more = new ArrayList<>(recentMisses(misses, now));
    more.add(now);
    return new DemandLog(claims, more.subList(Math.max(0, more.size() - MAX_MISSES), more.size()));
  }

  /**
   * Claims since {@code sinceMillis}: the latest total less the total of the newest sample at or
   * before it (or of the oldest sample, when all are newer: the count began later).
   */
  public long claimsSince(long sinceMillis) {
    if (claims.isEmpty()) {
      return 0;
    }
    ClaimSample baseline = claims.get(0);
    for (ClaimSample s : claims) {
      if (s.atMillis() <= sinceMillis) {
        baseline = s;
      }
    }
    return claims.get(claims.size() - 1).total() - baseline.total();
  }

  /** Misses after {@code sinceMillis}. */
  public int missesSince(long sinceMillis) {
    return (int) misses.stream().filter(t -> t > sinceMillis).count();
  }

  private static List<Long> recentMisses(List<Long> misses, long now) {
    return misses.stream().filter(t -> t > now - KEPT_MILLIS).toList();
  }
}
