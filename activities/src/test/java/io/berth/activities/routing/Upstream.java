package io.berth.activities.routing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** A tiny HTTP server on 127.0.0.1 that answers with "upstream <name>", and on /echo with the proxy headers it received. */
final class Upstream implements AutoCloseable {
  private final HttpServer server;
  final String name;

  Upstream(String name) {
    this.name = name;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", exchange -> {
      byte[] body = ("upstream " + name).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.createContext("/echo", exchange -> {
      StringBuilder body = new StringBuilder();
      for (String h : List.of("Host", "Upgrade", "Connection", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto",
          "X-Forwarded-Host")) {
        body.append(h.toLowerCase(Locale.ROOT)).append('=').append(exchange.getRequestHeaders().getFirst(h)).append('\n');
      }
      byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
