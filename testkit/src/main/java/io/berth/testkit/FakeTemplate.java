package io.berth.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for code-server, run as its own process by the tests' start script: {@code /healthz}
 * answers {@code {"status":"alive","lastHeartbeat":<mtime of <home>/.heartbeat>}} as code-server
 * reports the last touch of its heartbeat file; {@code /count} says how many {@code /healthz}
 * requests it served (the agent's readings). Args: bind address, port, home.
 */
public final class FakeTemplate {
  private FakeTemplate() {}

  public static void main(String[] args) throws IOException {
    Path home = Path.of(args[2]);
    AtomicInteger healthz = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 16);
    server.createContext("/healthz", ex -> {
      Path beat = home.resolve(".heartbeat");
      long last = Files.exists(beat) ? Files.getLastModifiedTime(beat).toMillis() : 0;
      // Counted once the reading is taken: a test that saw the count move may then touch the file.
      healthz.incrementAndGet();
      reply(ex, "{\"status\":\"alive\",\"lastHeartbeat\":" + last + "}");
    });
    server.createContext("/count", ex -> reply(ex, String.valueOf(healthz.get())));
    server.createContext("/", ex -> reply(ex, "workspace in " + home));
    server.start();
  }

  private static void reply(HttpExchange ex, String body) throws IOException {
    try (ex) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, bytes.length);
      ex.getResponseBody().write(bytes);
    }
  }
}
