package io.berth.activities.fleet.local;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The local fleet's settings. {@code apiUrl} is where workspaces send heartbeats (the API's base
 * URL); {@code reconcileInterval} is how often the fleet compares running hosts with desired.
 */
public record LocalFleetConfig(Path stateDir, int minHosts, int maxHosts, int slotsPerHost, Template template,
                               String apiUrl, Duration reconcileInterval) {
  public static final String DEFAULT_API_URL = "http://127.0.0.1:8080";

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
  }

  /** The demo template, 0..10 hosts of 4 slots, the API on 8080, a pass every second. */
  public static LocalFleetConfig defaults(Path stateDir) {
    return new LocalFleetConfig(stateDir, 0, 10, 4, DemoTemplate.ofThisJvm(), DEFAULT_API_URL, Duration.ofSeconds(1));
  }

  public LocalFleetConfig withHosts(int min, int max) {
    return new LocalFleetConfig(stateDir, min, max, slotsPerHost, template, apiUrl, reconcileInterval);
  }

  public LocalFleetConfig withSlotsPerHost(int n) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, n, template, apiUrl, reconcileInterval);
  }

  public LocalFleetConfig withTemplate(Template t) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, t, apiUrl, reconcileInterval);
  }

  public LocalFleetConfig withApiUrl(String url) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, url, reconcileInterval);
  }

  public LocalFleetConfig withReconcileInterval(Duration d) {
    return new LocalFleetConfig(stateDir, minHosts, maxHosts, slotsPerHost, template, apiUrl, d);
  }
}
