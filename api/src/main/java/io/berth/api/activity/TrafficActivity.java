package io.berth.api.activity;

import io.berth.api.workspaces.WorkspaceSettings;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Requests the gateway lets through to a workspace, counted as its activity (docs/TEMPLATES.md).
 * Nginx asks {@code /api/gateway/auth} about every request; this records at most one of them per
 * workspace per heartbeat window and API process, with the heartbeat's one Redis script (which
 * signals the workflow at most once per window across all processes). Every other request costs
 * a map lookup.
 *
 * <p>What counts is what a person does: a page load (navigation), a WebSocket opening (a
 * browser's is {@code Sec-Fetch-Mode: websocket}; Nginx does not pass the hop-by-hop
 * {@code Upgrade} on to the subrequest), a write (any method but GET, HEAD and OPTIONS), and any
 * request from a client that is not a browser's background fetch (no {@code Sec-Fetch-Mode}:
 * curl, scripts, API clients, WebSocket libraries). A browser's background
 * GET (fetch or XHR, {@code Sec-Fetch-Mode: cors|same-origin|no-cors}) does not: an open tab that
 * only polls must not keep a workspace forever.
 */
@Singleton
public class TrafficActivity {
  private final Heartbeats heartbeats;
  private final boolean enabled;
  private final long windowMillis;
  private final LongSupplier clock;
  /** Workspace key → when this process last wrote its traffic (ms); pruned as it grows. */
  private final ConcurrentHashMap<String, Long> lastWrite = new ConcurrentHashMap<>();
  private volatile long nextPrune;

  public TrafficActivity(Heartbeats heartbeats, ActivitySources sources, WorkspaceSettings settings) {
    this(heartbeats, sources.traffic(), settings.effectiveHeartbeatWindow().toMillis(), System::currentTimeMillis);
  }

  TrafficActivity(Heartbeats heartbeats, boolean enabled, long windowMillis, LongSupplier clock) {
    this.heartbeats = heartbeats;
    this.enabled = enabled;
    this.windowMillis = windowMillis;
    this.clock = clock;
  }

  /** A request to {@code key}'s workspace at {@code label} went through; records it when it counts and is due. */
  public void passed(String key, String label, @Nullable String method, @Nullable String fetchMode) {
    if (!enabled || !counts(method, fetchMode)) {
      return;
    }
    long now = clock.getAsLong();
    Long last = lastWrite.get(key);
    if (last != null && now - last < windowMillis) {
      return;
    }
    // One writer per window: the thread whose value went in writes; a racing one sees it and stops.
    boolean mine = last == null ? lastWrite.putIfAbsent(key, now) == null : lastWrite.replace(key, last, now);
    if (!mine) {
      return;
    }
    prune(now);
    heartbeats.traffic(key, label);
  }

  static boolean counts(@Nullable String method, @Nullable String fetchMode) {
    String m = method == null ? "GET" : method.toUpperCase(Locale.ROOT);
    if (!m.equals("GET") && !m.equals("HEAD") && !m.equals("OPTIONS")) {
      return true;
    }
    return fetchMode == null || fetchMode.isBlank() || fetchMode.equalsIgnoreCase("navigate")
        || fetchMode.equalsIgnoreCase("websocket");
  }

  /** Entries older than a window decide nothing any more: drop them, at most once a window. */
  private void prune(long now) {
    if (now < nextPrune) {
      return;
    }
    nextPrune = now + windowMillis;
    lastWrite.values().removeIf(t -> now - t >= windowMillis);
  }
}
