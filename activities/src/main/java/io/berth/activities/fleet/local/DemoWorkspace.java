package io.berth.activities.fleet.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The built-in {@code demo} template: a page that names its owner and keeps the workspace alive
 * while someone uses it. Runs as its own small JVM per slot and uses the JDK only.
 *
 * <p>The browser tells this server about activity ({@code POST /activity}); this server, not the
 * browser, sends the heartbeat to the API with the workspace token, so the token never leaves
 * the slot's directory.
 */
public final class DemoWorkspace {
  /** How often activity is reported when nothing says (BERTH_ACTIVITY_INTERVAL_MS). */
  static final long DEFAULT_EVERY_MILLIS = 5_000;
  private static final int MAX_FILE_BYTES = 4096;
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{16,256}");

  private final Path slotDir;
  private final URI heartbeat;
  /** The page reports input at most this often, and this server sends at most one heartbeat per period. */
  private final long everyMillis;
  private final AtomicLong lastBeat;
  private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "heartbeat");
    t.setDaemon(true);
    return t;
  });

  DemoWorkspace(Path slotDir, URI heartbeat) {
    this(slotDir, heartbeat, DEFAULT_EVERY_MILLIS);
  }

  DemoWorkspace(Path slotDir, URI heartbeat, long everyMillis) {
    this.slotDir = slotDir;
    this.heartbeat = heartbeat;
    this.everyMillis = Math.max(100, everyMillis);
    this.lastBeat = new AtomicLong(System.nanoTime() - this.everyMillis * 1_000_000);
  }

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(required("BERTH_PORT"));
    Path slotDir = Path.of(required("BERTH_SLOT_DIR"));
    String api = System.getenv().getOrDefault("BERTH_API_URL", LocalFleetConfig.DEFAULT_API_URL).replaceAll("/+$", "");
    DemoWorkspace w = new DemoWorkspace(slotDir, URI.create(api + "/api/heartbeat"), every());
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    server.createContext("/", w::handle);
    server.start();
    System.out.println("demo workspace on 127.0.0.1:" + port);
  }

  private static long every() {
    try {
      return Long.parseLong(System.getenv().getOrDefault("BERTH_ACTIVITY_INTERVAL_MS", "" + DEFAULT_EVERY_MILLIS));
    } catch (NumberFormatException e) {
      return DEFAULT_EVERY_MILLIS;
    }
  }

  private static String required(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(name + " is not set");
    }
    return v;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/healthz" -> send(ex, 200, "text/plain; charset=utf-8", "ok");
        case "/" -> {
          if (!method.equals("GET") && !method.equals("HEAD")) {
            send(ex, 405, "text/plain; charset=utf-8", "method not allowed");
            return;
          }
          reportActivity();
          send(ex, 200, "text/html; charset=utf-8", page(owner(), everyMillis));
        }
        case "/activity" -> {
          if (!method.equals("POST")) {
            send(ex, 405, "text/plain; charset=utf-8", "method not allowed");
            return;
          }
          reportActivity();
          ex.getResponseHeaders().set("Cache-Control", "no-store");
          ex.sendResponseHeaders(204, -1);
        }
        default -> send(ex, 404, "text/plain; charset=utf-8", "not found");
      }
    }
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : b.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(b);
      }
    }
  }

  /** At most one heartbeat per window, sent off the request thread; without a token there is nobody to report to. */
  void reportActivity() {
    String token = readSmall(slotDir.resolve("token"));
    if (token == null || !TOKEN.matcher(token).matches()) {
      return;
    }
    long now = System.nanoTime();
    long last = lastBeat.get();
    if (now - last < everyMillis * 1_000_000 || !lastBeat.compareAndSet(last, now)) {
      return;
    }
    sender.execute(() -> postHeartbeat(token));
  }

  /** Waits until every heartbeat queued so far was sent (tests). */
  void drain() throws Exception {
    sender.submit(() -> { }).get(10, TimeUnit.SECONDS);
  }

  private void postHeartbeat(String token) {
    try {
      HttpURLConnection c = (HttpURLConnection) heartbeat.toURL().openConnection();
      c.setConnectTimeout(2000);
      c.setReadTimeout(3000);
      c.setRequestMethod("POST");
      c.setRequestProperty("Authorization", "Bearer " + token);
      c.setDoOutput(true);
      c.setFixedLengthStreamingMode(0);
      c.getOutputStream().close();
      int status = c.getResponseCode();
      try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
        if (in != null) {
          in.readAllBytes();
        }
      }
    } catch (IOException | RuntimeException e) {
      // The API may be restarting; the next activity tries again.
    }
  }

  private String owner() {
    String o = readSmall(slotDir.resolve("owner"));
    return o == null || o.isEmpty() ? "spare" : o;
  }

  private static String readSmall(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(MAX_FILE_BYTES), StandardCharsets.UTF_8).trim();
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  static String page(String owner) {
    return page(owner, DEFAULT_EVERY_MILLIS);
  }

  /**
   * The page reports input (mouse, keys, touch, scroll) once per {@code everyMillis} while there
   * was some since its last report, and only while it is visible: a tab left open reports nothing.
   */
  static String page(String owner, long everyMillis) {
    String who = escape(owner);
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>Workspace of %1$s</title>
        <style>body{font-family:system-ui,sans-serif;margin:3rem auto;max-width:40rem;color:#223}</style></head>
        <body><h1>Workspace of %1$s</h1>
        <p>This is a Berth demo workspace. It stays yours while you use this page;
        leave it idle and it goes back to the pool.</p>
        <script>
        (function () {
          var input = false;
          ['mousemove', 'keydown', 'pointerdown', 'scroll', 'touchstart'].forEach(function (e) {
            addEventListener(e, function () { input = true; }, {passive: true});
          });
          setInterval(function () {
            if (input && document.visibilityState === 'visible') {
              input = false;
              fetch('/activity', {method: 'POST', credentials: 'same-origin'}).catch(function () {});
            }
          }, %2$d);
        })();
        </script></body></html>
        """.formatted(who, everyMillis);
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
