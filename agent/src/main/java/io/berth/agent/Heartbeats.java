package io.berth.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every interval, for each slot holding a token: read the template's activity; when it shows use,
 * {@code POST <api>/api/heartbeat} with the token as bearer and no body. 204 keeps the workspace,
 * 401 means it is gone (the token is forgotten), anything else is retried a few times and then
 * left to the next interval: a missed beat costs nothing while the next one comes in time.
 */
final class Heartbeats implements Runnable {
  private static final int ATTEMPTS = 3;

  /** The previous reading of a slot, and for which token: a new token starts from a fresh reading. */
  private record Last(String token, Activity.Reading reading) {}

  private final AgentConfig config;
  private final Slots slots;
  private final TokenStore store;
  private final Activity activity;
  private final URI endpoint;
  private final Map<Integer, Last> last = new HashMap<>();
  private final Map<Integer, String> lastProblem = new HashMap<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  Heartbeats(AgentConfig config, Slots slots, TokenStore store, Activity activity) {
    this.config = config;
    this.slots = slots;
    this.store = store;
    this.activity = activity;
    this.endpoint = URI.create(config.apiUrl() + "/api/heartbeat");
  }

  @Override
  public void run() {
    for (int slot = 0; slot < config.slots(); slot++) {
      try {
        check(slot);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        Log.error("slot " + slot + ": heartbeat check failed: " + Retry.describe(e));
      }
    }
  }

  private void check(int slot) throws Exception {
    Optional<Credentials> held = store.get(slot);
    if (held.isEmpty()) {
      last.remove(slot);
      return;
    }
    Credentials c = held.get();
    Activity.Reading now = read(slot);
    if (now == null) {
      return;
    }
    Last before = last.put(slot, new Last(c.token(), now));
    boolean sameToken = before != null && before.token().equals(c.token());
    if (sameToken && (now.connected() || !now.state().equals(before.reading().state()))) {
      send(c);
    }
  }

  /** The slot's reading, or null when the template does not answer (told once until it does again). */
  private Activity.Reading read(int slot) throws InterruptedException {
    try {
      Activity.Reading r = activity.read(slots, slot);
      if (lastProblem.remove(slot) != null) {
        Log.info("slot " + slot + ": the template reports activity again");
      }
      return r;
    } catch (IOException e) {
      String problem = Retry.describe(e);
      if (!problem.equals(lastProblem.put(slot, problem))) {
        Log.warn("slot " + slot + ": cannot read the template's activity on port " + config.port(slot) + ": " + problem);
      }
      return null;
    }
  }

  private void send(Credentials c) throws Exception {
    int status = Retry.call("slot " + c.slot() + ": heartbeat for " + c.user(), ATTEMPTS, Duration.ofSeconds(1),
        () -> post(c.token()));
    if (status == 401) {
      if (store.removeIf(c.slot(), c.token())) {
        Log.info("slot " + c.slot() + ": the API no longer knows the workspace of " + c.user() + " (401); token forgotten");
      }
    } else if (status < 200 || status >= 300) {
      Log.warn("slot " + c.slot() + ": heartbeat for " + c.user() + " answered " + status + "; not retried");
    }
  }

  /** The status; 5xx and I/O failures are exceptions, so the retry covers them. */
  private int post(String token) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build();
    int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    if (status >= 500) {
      throw new IOException("the API answered " + status);
    }
    return status;
  }
}
