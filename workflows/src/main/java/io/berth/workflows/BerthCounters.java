package io.berth.workflows;

import com.uber.m3.tally.Scope;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Counters of things that happen in the worker (saga compensations, reclaims, probe failures,
 * quarantines, Nginx reload failures) but are scraped from the API, a separate process.
 *
 * <p>The workflows count on {@code Workflow.getMetricsScope()}: the SDK drops those increments
 * while replaying, and they add nothing to the history, so no {@code Workflow.getVersion} is
 * needed. The worker's reporter adds each increment to one Redis hash ({@link #redisKey}) under
 * {@link #field}; the API exports that hash. Every counter and tag value is listed here, so the
 * hash stays small and a typo cannot invent a series.
 */
public final class BerthCounters {

  /** A counter, its one tag (or none) and every value that tag may take. */
  public enum Counter {
    SAGA_COMPENSATIONS("berth_saga_compensations", "step",
        List.of("claim", "tag", "protect", "dns", "route", "session"),
        "Saga compensations run, by the step they undo"),
    RECLAIMS("berth_reclaims", "reason", List.of("idle", "released", "max_lifetime"),
        "Workspaces torn down, by why"),
    PROBE_FAILURES("berth_probe_failures", "phase", List.of("allocate", "pool"),
        "Readiness probes that failed: a claimed slot that never answered (allocate), or a slot the controller "
            + "probed to admit it to or keep it in the pool (pool)"),
    HOSTS_QUARANTINED("berth_hosts_quarantined", null, List.of(),
        "Hosts terminated by the capacity controller because a slot was broken or kept failing its probe"),
    NGINX_RELOAD_FAILURES("berth_nginx_reload_failures", null, List.of(),
        "Nginx route changes that failed their configuration test or reload");

    private final String metric;
    private final String tag;
    private final List<String> values;
    private final String description;

    Counter(String metric, String tag, List<String> values, String description) {
      this.metric = metric;
      this.tag = tag;
      this.values = values;
      this.description = description;
    }

    /** The name counted on a Tally scope; Prometheus shows it with {@code _total}. */
    public String metric() {
      return metric;
    }

    /** The tag's key, or null for an untagged counter. */
    public String tag() {
      return tag;
    }

    public List<String> tagValues() {
      return values;
    }

    public String description() {
      return description;
    }

    public static Optional<Counter> byMetric(String metric) {
      for (Counter c : values()) {
        if (c.metric.equals(metric)) {
          return Optional.of(c);
        }
      }
      return Optional.empty();
    }
  }

  private BerthCounters() {}

  /** Hash: {@link #field} → count since the hash was created. */
  public static String redisKey(RedisKeys keys) {
    return keys.prefix() + "metrics";
  }

  /**
   * The hash field of one series, e.g. {@code berth_reclaims{reason="idle"}}; empty when the
   * value is not one the counter allows (or a tag is given to an untagged counter).
   */
  public static Optional<String> field(Counter c, String value) {
    if (c.tag == null) {
      return value == null ? Optional.of(c.metric) : Optional.empty();
    }
    if (value == null || !c.values.contains(value)) {
      return Optional.empty();
    }
    return Optional.of(c.metric + "{" + c.tag + "=\"" + value + "\"}");
  }

  /** Counts one event on {@code scope} (in a workflow: {@code Workflow.getMetricsScope()}). */
  public static void count(Scope scope, Counter c, String value) {
    Scope s = c.tag == null ? scope : scope.tagged(Map.of(c.tag, value));
    s.counter(c.metric).inc(1);
  }

  /** Teardown reason (as the workflow words it) to the {@link Counter#RECLAIMS} tag value. */
  public static String reclaimReason(String reason) {
    if (reason == null) {
      return "released";
    }
    if (reason.startsWith("max lifetime")) {
      return "max_lifetime";
    }
    return reason.equals("idle") ? "idle" : "released";
  }
}
