package io.berth.api.metrics;

import io.berth.workflows.BerthCounters;
import io.berth.workflows.BerthCounters.Counter;
import io.berth.workflows.model.CapacityStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The fleet gauges (from the capacity workflow's status) and the worker's counters (from Redis),
 * registered once; their values come from {@link MetricsSources}, refreshed before each scrape.
 */
@Singleton
public class FleetMeters implements MeterBinder {
  private final MetricsSources sources;

  public FleetMeters(MetricsSources sources) {
    this.sources = sources;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    gauge(registry, "berth.pool.spares", "Warm spares in the pool", CapacityStatus::sparesReady);
    gauge(registry, "berth.pool.spares.target", "Warm spares the controller keeps", CapacityStatus::sparesTarget);
    gauge(registry, "berth.workspaces.active", "Workspaces with a session", CapacityStatus::active);
    gauge(registry, "berth.workspaces.provisioning", "Allocations waiting for capacity (cold path)",
        CapacityStatus::provisioning);
    gauge(registry, "berth.hosts.desired", "Desired capacity of the fleet", CapacityStatus::desired);
    gauge(registry, "berth.hosts.actual", "Hosts running", CapacityStatus::actual);
    Gauge.builder("berth.nginx.up", sources, MetricsSources::nginxUp)
        .description("1 when the worker reports a running Nginx; 0 when it is down or no worker reports")
        .register(registry);
    for (Counter c : Counter.values()) {
      for (String value : tagValues(c)) {
        String field = BerthCounters.field(c, value).orElseThrow();
        FunctionCounter.Builder<MetricsSources> b = FunctionCounter.builder(c.metric(), sources, s -> s.counter(field))
            .description(c.description());
        if (c.tag() != null) {
          b.tag(c.tag(), value);
        }
        b.register(registry);
      }
    }
  }

  private void gauge(MeterRegistry registry, String name, String description, ToIntFunction<CapacityStatus> figure) {
    Gauge.builder(name, sources, s -> s.capacity(figure)).description(description).register(registry);
  }

  private static List<String> tagValues(Counter c) {
    List<String> values = new ArrayList<>();
    if (c.tag() == null) {
      values.add(null);
    } else {
      values.addAll(c.tagValues());
    }
    return values;
  }
}
