package io.berth.api.activity;

import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What counts as a workspace's activity ({@code BERTH_ACTIVITY}, a comma-separated list):
 * {@code traffic}, requests the gateway lets through to the workspace; {@code heartbeat}, calls
 * to {@code POST /api/heartbeat} with the workspace's token (its template's agent or page).
 * Read at startup: an unknown word stops the API with a message that names the known ones.
 */
@Context
public class ActivitySources {
  public enum Source { TRAFFIC, HEARTBEAT }

  private final Set<Source> sources;

  public ActivitySources(@Value("${berth.activity:traffic,heartbeat}") String setting) {
    this.sources = parse(setting);
  }

  static Set<Source> parse(String setting) {
    Set<Source> out = EnumSet.noneOf(Source.class);
    for (String word : (setting == null ? "" : setting).split(",")) {
      String w = word.trim().toUpperCase(Locale.ROOT);
      if (w.isEmpty()) {
        continue;
      }
      try {
        out.add(Source.valueOf(w));
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("BERTH_ACTIVITY holds '" + word.trim()
            + "'; it is a comma-separated list of traffic and heartbeat");
      }
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("BERTH_ACTIVITY is empty: nothing would count as activity, and every "
          + "workspace would be reclaimed at its idle timeout; use traffic, heartbeat or both");
    }
    return out;
  }

  public boolean traffic() {
    return sources.contains(Source.TRAFFIC);
  }

  public boolean heartbeat() {
    return sources.contains(Source.HEARTBEAT);
  }
}
