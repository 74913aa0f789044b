package io.berth.activities.fleet.local;

import io.berth.activities.fleet.local.ActivitySignal.Reading;
import io.berth.activities.fleet.local.ActivitySignal.Watched;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats for templates that cannot send them: reads every live slot's {@link ActivitySignal}
 * each interval and, for a slot that holds a heartbeat token (an owned, stored workspace) and
 * shows use, posts {@code /api/heartbeat} with that token, as {@link DemoWorkspace} does for the
 * demo. Spares are read too, so that a slot's first reading after it is allocated already has
 * something to compare with. The API coalesces heartbeats; this sends at most one per slot per
 * interval.
 */
final class ActivityWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ActivityWatcher.class);
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{16,256}");
  private static final Duration POST_TIMEOUT = Duration.ofSeconds(3);

  private final ActivitySignal signal;
  private final URI heartbeat;
  private final Supplier<List<Watched>> slots;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(POST_TIMEOUT).build();
  /** Slot id → the last reading of the process that runs there. */
  private final Map<String, Last> last = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "slot-activity");
    t.setDaemon(true);
    return t;
  });

  private record Last(long pid, String state) {}

  ActivityWatcher(ActivitySignal signal, String apiUrl, Supplier<List<Watched>> slots) {
    this.signal = signal;
    this.heartbeat = URI.create(apiUrl + "/api/heartbeat");
    this.slots = slots;
  }

  ActivityWatcher start(Duration every) {
    timer.scheduleWithFixedDelay(this::passQuietly, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void passQuietly() {
    try {
      pass();
    } catch (RuntimeException e) {
      log.warn("activity pass failed, retrying next interval: {}", e.toString());
    }
  }

  /** One look at every slot; returns how many heartbeats were sent. */
  int pass() {
    List<Watched> now = slots.get();
    Set<String> seen = new HashSet<>();
    int sent = 0;
    for (Watched w : now) {
      seen.add(w.slotId());
      if (used(w) && post(w)) {
        sent++;
      }
    }
    last.keySet().retainAll(seen);
    return sent;
  }

  /** Whether the slot shows use since the previous reading of the same process. */
  private boolean used(Watched w) {
    Reading r;
    try {
      r = signal.read(w);
    } catch (IOException | RuntimeException e) {
      log.debug("no activity reading of {}: {}", w.slotId(), e.toString());
      return false;
    }
    Last before = last.put(w.slotId(), new Last(w.pid(), r.state()));
    boolean changed = before != null && before.pid() == w.pid() && !before.state().equals(r.state());
    return r.inUse() || changed;
  }

  private boolean post(Watched w) {
    String token = readToken(w.slotDir().resolve("token"));
    if (token == null) {
      return false;
    }
    HttpRequest request = HttpRequest.newBuilder(heartbeat).timeout(POST_TIMEOUT)
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.noBody()).build();
    try {
      int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status >= 300) {
        log.debug("heartbeat of {} answered {}", w.slotId(), status);
      }
      return status < 300;
    } catch (IOException e) {
      log.debug("heartbeat of {} failed: {}", w.slotId(), e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String readToken(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      String t = new String(in.readNBytes(300), StandardCharsets.UTF_8).trim();
      return TOKEN.matcher(t).matches() ? t : null;
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
