package io.berth.stack.bench;

import java.util.Arrays;
import java.util.Collection;

/** Latency samples in milliseconds, sorted once; percentiles by nearest rank. */
record Stats(double[] sorted) {
  static Stats of(Collection<Double> samples) {
    double[] s = samples.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(s);
    return new Stats(s);
  }

  static Stats of(double[] samples) {
    double[] s = samples.clone();
    Arrays.sort(s);
    return new Stats(s);
  }

  int n() {
    return sorted.length;
  }

  double p(double percentile) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  double max() {
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
  }

  double mean() {
    return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN);
  }

  static String ms(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return v >= 100 ? String.format("%.0f ms", v) : String.format("%.1f ms", v);
  }
}
