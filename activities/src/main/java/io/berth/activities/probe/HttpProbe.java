package io.berth.activities.probe;

import io.berth.activities.Addresses;
import io.berth.workflows.activities.ProbeActivities;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Readiness of a slot: one GET of the template's health path; 2xx and 3xx count as ready.
 * Addresses come from the fleet provider; they are checked to be an IP literal or DNS name (and,
 * for the local provider, loopback) before they reach a URL.
 */
public final class HttpProbe implements ProbeActivities {
  /** Health paths of the built-in templates. */
  public static final Map<String, String> DEFAULT_PATHS =
      Map.of("demo", "/healthz", "code-server", "/healthz", "chromium", "/json/version");
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  public static final Duration DEFAULT_AWAIT_WINDOW = Duration.ofSeconds(2);
  private static final Pattern PATH = Pattern.compile("/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*");
  private static final Duration AWAIT_INTERVAL = Duration.ofMillis(100);

  private final Map<String, String> paths;
  private final Duration timeout;
  private final Duration awaitWindow;
  private final boolean loopbackOnly;
  private final HttpClient client;

  /** Default paths and timeouts; any loopback or provider-given address. */
  public HttpProbe() {
    this(DEFAULT_PATHS, DEFAULT_TIMEOUT, DEFAULT_AWAIT_WINDOW, false);
  }

  /**
   * The built-in templates' paths plus {@code path} for {@code template}: the {@code command}
   * template's configured probe path (BERTH_TEMPLATE_PROBE_PATH).
   */
  public static Map<String, String> pathsWith(String template, String path) {
    Map<String, String> paths = new HashMap<>(DEFAULT_PATHS);
    paths.put(template, path);
    return Map.copyOf(paths);
  }

  /**
   * @param paths health path per template; a template not listed is probed at {@code /}
   * @param timeout connect and response timeout of one probe
   * @param awaitWindow how long {@link #awaitReady} keeps probing before it throws (zero: once)
   * @param loopbackOnly refuse any address that is not loopback (the local provider)
   */
  public HttpProbe(Map<String, String> paths, Duration timeout, Duration awaitWindow, boolean loopbackOnly) {
    paths.forEach((template, path) -> {
      if (path == null || !PATH.matcher(path).matches()) {
        throw new IllegalArgumentException("probe path for " + template + " must match " + PATH);
      }
    });
    this.paths = Map.copyOf(paths);
    this.timeout = timeout;
    this.awaitWindow = awaitWindow;
    this.loopbackOnly = loopbackOnly;
    this.client = HttpClient.newBuilder()
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  @Override
  public ProbeResult probeSlot(Slot slot) {
    URI uri = uriOf(slot);
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
      int status = response.statusCode();
      boolean ready = status >= 200 && status < 400;
      return new ProbeResult(ready, status, "GET " + uri.getPath() + " answered " + status);
    } catch (HttpTimeoutException e) {
      return new ProbeResult(false, 0, "GET " + uri.getPath() + " timed out after " + timeout);
    } catch (IOException e) {
      return new ProbeResult(false, 0, "GET " + uri.getPath() + " failed: " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : " " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ProbeResult(false, 0, "interrupted");
    }
  }

  @Override
  public void awaitReady(Slot slot) {
    long deadline = System.nanoTime() + awaitWindow.toNanos();
    ProbeResult last = probeSlot(slot);
    while (!last.ready() && System.nanoTime() + AWAIT_INTERVAL.toNanos() < deadline) {
      try {
        Thread.sleep(AWAIT_INTERVAL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      last = probeSlot(slot);
    }
    if (!last.ready()) {
      throw ApplicationFailure.newFailure("slot " + slot.slotId() + " not ready: " + last.detail(), "NotReady");
    }
  }

  private URI uriOf(Slot slot) {
    if (slot == null || !Addresses.host(slot.address()) || !Addresses.port(slot.port())) {
      throw ApplicationFailure.newNonRetryableFailure("slot address must be an IP literal or DNS name with a port",
          "InvalidInput");
    }
    if (loopbackOnly && !Addresses.loopback(slot.address())) {
      throw ApplicationFailure.newNonRetryableFailure("only loopback slots may be probed here", "InvalidInput");
    }
    String path = paths.getOrDefault(slot.template() == null ? "" : slot.template(), "/");
    return URI.create("http://" + Addresses.forUrl(slot.address()) + ":" + slot.port() + path);
  }
}
