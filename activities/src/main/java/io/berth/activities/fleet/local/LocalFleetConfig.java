package io.berth.activities.fleet.local;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The local fleet's settings. {@code apiUrl} is where workspaces send heartbeats (the API's base
 * URL); {@code reconcileInterval} is how often the fleet compares running hosts with desired;
 * {@code activityInterval} how often it reads the slots of a template with an
 * {@link Template#activitySignal()} and sends their heartbeats.
 */
public record LocalFleetConfig(Path stateDir, int minHosts, int maxHosts, int slotsPerHost, Template template,
                               String apiUrl, Duration reconcileInterval, Duration activityInterval, SlotBox box) {
  public static final String DEFAULT_API_URL = "http://127.0.0.1:8080";
  public static final Duration DEFAULT_ACTIVITY_INTERVAL = Duration.ofSeconds(5);

  public LocalFleetConfig(Path stateDir, int minHosts, int maxHosts, int slotsPerHost, Template template,
                          String apiUrl, Duration reconcileInterval) {
    this(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, reconcileInterval, DEFAULT_ACTIVITY_INTERVAL);
  }

  /** Unboxed: {@code box} null (see {@link SlotBox}). */
  public LocalFleetConfig(Path stateDir, int minHosts, int maxHosts, int slotsPerHost, Template template,
                          String apiUrl, Duration reconcileInterval, Duration activityInterval) {
    this(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, reconcileInterval, activityInterval, null);
  }

  public LocalFleetConfig {
    if (stateDir == null || template == null) {
      throw new IllegalArgumentException("stateDir and template are required");
    }
    if (minHosts < 0 || maxHosts < minHosts || maxHosts > 1000) {
      throw new IllegalArgumentException("need 0 <= min <= max <= 1000, got " + minHosts + ".." + maxHosts);
    }
    if (slotsPerHost < 1 || slotsPerHost > 64) {
      throw new IllegalArgumentException("slots per host must be 1..64, got " + slotsPerHost);
    }
    URI api = URI.create(apiUrl);
    if (!("http".equals(api.getScheme()) || "https".equals(api.getScheme())) || api.getHost() == null) {
      throw new IllegalArgumentException("api url must be http(s)://host[:port]: " + apiUrl);
    }
    apiUrl = apiUrl.replaceAll("/+$", "");
    if (reconcileInterval == null || reconcileInterval.isNegative() || reconcileInterval.isZero()) {
      throw new IllegalArgumentException("reconcile interval must be positive");
    }
    if (activityInterval == null || activityInterval.toMillis() < 100) {
      throw new IllegalArgumentException("activity interval must be at least 100 ms");
    }
  }

  /** The demo template, 0..10 hosts of 4 slots, the API on 8080, a pass every second. */
  public static LocalFleetConfig defaults(Path stateDir) {
    return new LocalFleetConfig(stateDir, 0, 10, 4, DemoTemplate.ofThisJvm(), DEFAULT_API_URL, Duration.ofSeconds(1));
  }

  public LocalFleetConfig withHosts(int min, int max) {
    return new LocalFleetConfig(stateDir, min, max, slotsPerHost, template, apiUrl, reconcileInterval, activityInterval, box);
  }

  public LocalFleetConfig withSlotsPerHost(int n) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, n, template, apiUrl, reconcileInterval, activityInterval, box);
  }

  public LocalFleetConfig withTemplate(Template t) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, t, apiUrl, reconcileInterval, activityInterval, box);
  }

  public LocalFleetConfig withApiUrl(String url) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, url, reconcileInterval, activityInterval, box);
  }

  public LocalFleetConfig withReconcileInterval(Duration d) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, d, activityInterval, box);
  }

  /** {@code box}: where slots of templates that run user code are started; null: unboxed. */
  public LocalFleetConfig withBox(SlotBox b) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, reconcileInterval,
        activityInterval, b);
  }

  public LocalFleetConfig withActivityInterval(Duration d) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, reconcileInterval, d, box);
  }
}
