package io.berth.api.metrics;

import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Context;
import java.time.Duration;

/**
 * {@code berth_allocation_seconds}: how long {@code POST /api/workspaces} waited for the
 * workflow, by path (warm: a spare was claimed; cold: the saga had to ask for capacity) and
 * outcome. Buckets, not client-side percentiles, so replicas aggregate
 * ({@code histogram_quantile}).
 */
@Context // the series exist from startup, before the first allocation
public class AllocationMetrics {
  static final String NAME = "berth.allocation";
  /** An answer READY with a workspace allocated this long before the call began is an existing one. */
  static final Duration EXISTING_SKEW = Duration.ofSeconds(1);
  private static final Duration[] BUCKETS = {Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120),
      Duration.ofSeconds(300)};

  private final MeterRegistry registry;

  public AllocationMetrics(MeterRegistry registry) {
    this.registry = registry;
    // The usual series exist from the start, so rates and alerts have something to read.
    for (String path : new String[] {"warm", "cold"}) {
      for (String outcome : new String[] {"ready", "provisioning", "failed"}) {
        timer(path, outcome);
      }
    }
  }

  /** A started call; {@link Call#done} or {@link Call#error} records it. */
  public Call start() {
    return new Call(System.nanoTime(), System.currentTimeMillis());
  }

  public final class Call {
    private final long startNanos;
    private final long startMillis;

    private Call(long startNanos, long startMillis) {
      this.startNanos = startNanos;
      this.startMillis = startMillis;
    }

    public void done(WorkspaceView view) {
      record(path(view), outcome(view, startMillis));
    }

    /** No answer from the workflow (Temporal down, a conflict, a quota): path unknown. */
    public void error() {
      record("unknown", "error");
    }

    private void record(String path, String outcome) {
      timer(path, outcome).record(Duration.ofNanos(System.nanoTime() - startNanos));
    }
  }

  static String path(WorkspaceView view) {
    return view.steps() != null && view.steps().stream().anyMatch(s -> "capacity".equals(s.step())) ? "cold" : "warm";
  }

  /**
   * ready | provisioning | failed, and "existing" for a READY workspace allocated before this call
   * (a client asking again): its near-zero wait would hide real allocation times.
   */
  static String outcome(WorkspaceView view, long callStartMillis) {
    WorkspaceState s = view.state();
    if (s == WorkspaceState.READY) {
      boolean before = view.allocatedAtMillis() > 0
          && view.allocatedAtMillis() < callStartMillis - EXISTING_SKEW.toMillis();
      return before ? "existing" : "ready";
    }
    if (s == WorkspaceState.FAILED) {
      return "failed";
    }
    return s == WorkspaceState.ALLOCATING || s == WorkspaceState.PROVISIONING ? "provisioning" : "error";
  }

  private Timer timer(String path, String outcome) {
    return Timer.builder(NAME)
        .description("Time POST /api/workspaces waited for the allocation saga")
        .tag("path", path)
        .tag("outcome", outcome)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }
}
