package io.berth.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Headless Chromium driven over the DevTools protocol (one page, java.net.http.WebSocket): enough
 * to navigate, type, click, read the page's text and take screenshots. Every call is bounded;
 * {@link #close} kills the browser and all its children and removes its profile.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Path BINARY = Path.of(System.getenv().getOrDefault("BERTH_CHROMIUM", "/usr/bin/chromium"));
  private static final Duration CALL_BOUND = Duration.ofSeconds(30);
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final ArrayDeque<String> log;

  private HeadlessChromium(Process process, Path profile, WebSocket socket, ArrayDeque<String> log) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
    this.log = log;
  }

  /**
   * The browser binary: the one there, else installed with apt-get (the Debian package
   * {@code chromium}) when running as root; empty when neither works.
   */
  static Optional<Path> binary() {
    if (Files.isExecutable(BINARY)) {
      return Optional.of(BINARY);
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      return Optional.empty();
    }
    for (List<String> step : List.of(List.of("apt-get", "install", "-y", "-q", "chromium"),
        List.of("apt-get", "update", "-q"), List.of("apt-get", "install", "-y", "-q", "chromium"))) {
      if (Files.isExecutable(BINARY)) {
        break;
      }
      run(step, Duration.ofMinutes(10));
    }
    return Files.isExecutable(BINARY) ? Optional.of(BINARY) : Optional.empty();
  }

  private static void run(List<String> command, Duration bound) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
      Process p = pb.start();
      if (!p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      // no apt-get here: the caller sees the binary is still missing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static HeadlessChromium launch(Path binary, int width, int height) throws IOException {
    Path profile = Files.createTempDirectory("berth-chromium");
    Process process = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--no-default-browser-check", "--no-proxy-server", "--hide-scrollbars", "--disable-extensions", "--mute-audio",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile,
        "--window-size=" + width + "," + height, "about:blank")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    ArrayDeque<String> log = new ArrayDeque<>();
    CompletableFuture<String> browserUrl = new CompletableFuture<>();
    Thread reader = new Thread(() -> readStderr(process, log, browserUrl), "chromium-stderr");
    reader.setDaemon(true);
    reader.start();
    try {
      String ws = browserUrl.get(30, TimeUnit.SECONDS);
      URI page = pageSocket(URI.create(ws));
      Listener listener = new Listener();
      WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(page, listener).get(30, TimeUnit.SECONDS);
      HeadlessChromium c = new HeadlessChromium(process, profile, socket, log);
      listener.owner = c;
      c.call("Page.enable", Map.of());
      c.call("Runtime.enable", Map.of());
      c.call("Emulation.setDeviceMetricsOverride",
          Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", false));
      return c;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      kill(process);
      deleteTree(profile);
      throw new IOException("chromium did not start: " + e + "; stderr: " + String.join("\n", snapshot(log)), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(process);
      deleteTree(profile);
      throw new IOException("interrupted", e);
    }
  }

  private static void readStderr(Process process, ArrayDeque<String> log, CompletableFuture<String> browserUrl) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
        StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        Matcher m = LISTENING.matcher(line);
        if (m.find()) {
          browserUrl.complete(m.group(1));
        }
        synchronized (log) {
          log.addLast(line);
          while (log.size() > 200) {
            log.removeFirst();
          }
        }
      }
    } catch (IOException e) {
      // the browser is gone
    } finally {
      browserUrl.completeExceptionally(new IOException("chromium exited before listening"));
    }
  }

  private static List<String> snapshot(ArrayDeque<String> log) {
    synchronized (log) {
      return List.copyOf(log);
    }
  }

  /** The first page target's socket (the browser was started with about:blank). */
  private static URI pageSocket(URI browser) throws IOException, InterruptedException {
    URI list = URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return Await.value("a page target in " + list, Duration.ofSeconds(20), () -> {
      try {
        JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(list).timeout(Duration.ofSeconds(5))
            .build(), HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode t : targets) {
          if ("page".equals(t.path("type").asText()) && t.hasNonNull("webSocketDebuggerUrl")) {
            return URI.create(t.path("webSocketDebuggerUrl").asText());
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    });
  }

  /** Collects a message's fragments and completes the call it answers; events are not needed. */
  private static final class Listener implements WebSocket.Listener {
    volatile HeadlessChromium owner;
    private final StringBuilder message = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      message.append(data);
      if (last) {
        String text = message.toString();
        message.setLength(0);
        HeadlessChromium c = owner;
        if (c != null) {
          c.received(text);
        }
      }
      ws.request(1);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      HeadlessChromium c = owner;
      if (c != null) {
        c.pending.values().forEach(f -> f.completeExceptionally(error));
      }
    }
  }

  private void received(String text) {
    try {
      JsonNode msg = JSON.readTree(text);
      if (msg.has("id")) {
        CompletableFuture<JsonNode> f = pending.remove(msg.path("id").asInt());
        if (f != null) {
          f.complete(msg);
        }
      }
    } catch (IOException e) {
      // not JSON: not ours to answer
    }
  }

  /** One DevTools command; its result, or an AssertionError with the protocol's error. */
  JsonNode call(String method, Map<String, ?> params) {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
    msg.set("params", JSON.valueToTree(params));
    try {
      socket.sendText(msg.toString(), true).get(CALL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      JsonNode reply = answer.get(CALL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      if (reply.has("error")) {
        throw new AssertionError(method + ": " + reply.path("error"));
      }
      return reply.path("result");
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError(method + " got no answer within " + CALL_BOUND + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } finally {
      pending.remove(id);
    }
  }

  /** Evaluates JavaScript in the page (promises awaited) and returns its value as JSON. */
  JsonNode eval(String expression) {
    JsonNode r = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
        "awaitPromise", true));
    if (r.has("exceptionDetails")) {
      throw new AssertionError("page script failed: " + r.path("exceptionDetails"));
    }
    return r.path("result").path("value");
  }

  void navigate(String url) {
    call("Page.navigate", Map.of("url", url));
    Await.until("page " + url + " loaded", Duration.ofSeconds(30),
        () -> eval("location.href").asText().startsWith(url) && "complete".equals(eval("document.readyState").asText()));
  }

  String text() {
    return eval("document.body ? document.body.innerText : ''").asText();
  }

  /** Waits until the page's visible text contains {@code expected}; the page text is in the failure. */
  String awaitText(String expected, Duration bound) {
    try {
      return Await.value("the page to show \"" + expected + "\"", bound, () -> {
        String t = text();
        return t.contains(expected) ? t : null;
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the page shows:\n" + text(), e);
    }
  }

  /** Clicks the element as a script would; fails when there is none or it is disabled. */
  void click(String selector) {
    JsonNode ok = eval("(() => { const e = document.querySelector(" + quote(selector) + ");"
        + " if (!e || e.disabled) return false; e.click(); return true; })()");
    if (!ok.asBoolean()) {
      throw new AssertionError("nothing enabled to click at " + selector);
    }
  }

  /** Moves the mouse to (x, y) in the page: an input event, as a person's hand makes it. */
  void moveMouse(int x, int y) {
    call("Input.dispatchMouseEvent", Map.of("type", "mouseMoved", "x", x, "y", y));
  }

  /** Presses and releases one key that types {@code text}. */
  void pressKey(String text) {
    call("Input.dispatchKeyEvent", Map.of("type", "keyDown", "text", text, "key", text));
    call("Input.dispatchKeyEvent", Map.of("type", "keyUp", "key", text));
  }

  /** Focuses the field and types into it, as keyboard input does. */
  void type(String selector, String value) {
    eval("(() => { const e = document.querySelector(" + quote(selector) + "); e.focus(); e.value = ''; })()");
    call("Input.insertText", Map.of("text", value));
  }

  String attribute(String selector, String name) {
    return eval("(() => { const e = document.querySelector(" + quote(selector) + ");"
        + " return e ? e.getAttribute(" + quote(name) + ") : null; })()").asText(null);
  }

  /** A PNG of the whole page (not just the viewport), written to {@code file}. */
  Path screenshot(Path file) throws IOException {
    JsonNode metrics = call("Page.getLayoutMetrics", Map.of());
    double width = metrics.path("cssContentSize").path("width").asDouble(1280);
    double height = metrics.path("cssContentSize").path("height").asDouble(900);
    JsonNode shot = call("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true,
        "clip", Map.of("x", 0, "y", 0, "width", width, "height", Math.min(height, 4000), "scale", 1)));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(shot.path("data").asText()));
    return file;
  }

  static String quote(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** The browser's last stderr lines, for a failure message. */
  String stderr() {
    return String.join("\n", snapshot(log));
  }

  @Override
  public void close() {
    // Taken first: once the browser exits, its children are no longer its descendants.
    List<ProcessHandle> family = Stream.concat(process.descendants(), Stream.of(process.toHandle())).toList();
    try {
      call("Browser.close", Map.of());
    } catch (AssertionError | RuntimeException e) {
      // killed below either way
    }
    socket.abort();
    kill(family);
    deleteTree(profile);
  }

  private static void kill(Process process) {
    kill(Stream.concat(process.descendants(), Stream.of(process.toHandle())).toList());
  }

  /** The browser and every process it started (renderers, GPU and zygote helpers): asked, then forced. */
  private static void kill(List<ProcessHandle> family) {
    family.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : family) {
      try {
        p.onExit().get(5, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        p.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind is harmless
    }
  }
}
