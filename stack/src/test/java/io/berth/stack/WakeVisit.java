package io.berth.stack;

import io.berth.activities.routing.GatewayClient;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the owner's browser does on a gone workspace's address, over plain HTTP through the
 * gateway: the page (the first request), the wake POST from the page's own origin, the status
 * polls at the page's pace and the enter POST while it is not READY, then the workspace's first
 * byte. Used to time the wake and to ask as someone else would.
 */
final class WakeVisit {
  /** The page polls 300 ms after its POST, then every 400 ms. */
  private static final long FIRST_POLL_MILLIS = 300;
  private static final long POLL_MILLIS = 400;

  record Answer(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** The figures of one visit: when the workspace's first byte came, after the page's first request. */
  record Timing(long toFirstByteMillis, String wakeBody, String page) {}

  private final StackFixture f;

  WakeVisit(StackFixture f) {
    this.f = f;
  }

  String origin(String user) {
    return "http://" + f.hostname(user) + ":" + f.gatewayPort;
  }

  /** One request to the gateway with the workspace's Host and the headers a browser's fetch sends. */
  Answer send(String method, String user, String path, String cookie, Map<String, String> sent) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), f.gatewayPort), 5_000);
      s.setSoTimeout(120_000);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + f.hostname(user) + ":"
          + f.gatewayPort + "\r\n");
      if (cookie != null) {
        req.append("Cookie: ").append(cookie).append("\r\n");
      }
      sent.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      req.append(method.equals("POST") ? "Content-Length: 0\r\n" : "").append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
            (a, b) -> a + "\n" + b);
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers, text.substring(end + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The wake page's POSTs: from the workspace's own origin. */
  Answer post(String user, String path, String cookie) {
    return send("POST", user, path, cookie, Map.of("Origin", origin(user), "Sec-Fetch-Site", "same-origin"));
  }

  /**
   * The whole visit of the owner holding {@code cookie}, timed from the page's request to the
   * first byte of the workspace's own page. Fails when any step answers otherwise than the page expects.
   */
  Timing visit(String user, String cookie) throws InterruptedException {
    long start = System.nanoTime();
    Answer page = send("GET", user, "/", cookie, Map.of("Accept", "text/html", "Sec-Fetch-Site", "none"));
    if (page.status() != 404 || !page.body().contains("/.berth/wake")) {
      throw new AssertionError("not the wake page: " + page.status() + " " + page.body());
    }
    Answer wake = post(user, "/.berth/wake", cookie);
    String setCookie = wake.header("Set-Cookie");
    if (wake.status() == 202) {
      Thread.sleep(FIRST_POLL_MILLIS); // the page's own pace
      for (long until = System.currentTimeMillis() + 120_000; setCookie == null; Thread.sleep(POLL_MILLIS)) {
        if (System.currentTimeMillis() > until) {
          throw new AssertionError("no READY within 120 s: " + wake.body());
        }
        Answer status = send("GET", user, "/.berth/wake/status", cookie, Map.of("Sec-Fetch-Site", "same-origin"));
        if (status.body().contains("\"state\":\"READY\"")) {
          setCookie = post(user, "/.berth/wake/enter", cookie).header("Set-Cookie");
        }
      }
    } else if (wake.status() != 200 || setCookie == null) {
      throw new AssertionError("wake: " + wake.status() + " " + wake.headers() + " " + wake.body());
    }
    GatewayClient.Answer workspace;
    try {
      workspace = GatewayClient.get("127.0.0.1", f.gatewayPort, f.hostname(user), "/", Duration.ofSeconds(10),
          Map.of("Cookie", setCookie.split(";")[0]));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long took = (System.nanoTime() - start) / 1_000_000;
    if (workspace.status() != 200) {
      throw new AssertionError("the workspace after the wake: " + workspace.status() + " " + workspace.body());
    }
    return new Timing(took, wake.body(), workspace.body());
  }
}
