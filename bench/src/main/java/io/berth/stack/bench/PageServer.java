package io.berth.stack.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A workspace server that is not the bottleneck: the JDK's HttpServer on 127.0.0.1 answering one
 * static page of a few hundred bytes from a fixed pool. The demo template's server manages about
 * 230 requests/s, which would measure the demo, not the gateway.
 */
final class PageServer implements AutoCloseable {
  static final byte[] PAGE = page();
  private final HttpServer server;
  private final ExecutorService pool;

  private PageServer(HttpServer server, ExecutorService pool) {
    this.server = server;
    this.pool = pool;
  }

  static PageServer start(int threads) throws IOException {
    // Read once when the JDK server first starts: without it a response's header and body writes
    // meet Nagle and the client's delayed ACK (40 ms per request on a kept connection).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-page");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(pool);
    server.createContext("/", exchange -> {
      try (InputStream in = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
        in.readAllBytes();
        exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        exchange.sendResponseHeaders(200, PAGE.length);
        out.write(PAGE);
      }
    });
    server.start();
    return new PageServer(server, pool);
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static byte[] page() {
    StringBuilder sb = new StringBuilder("<!doctype html>\n<html><head><title>bench workspace</title></head><body>\n");
    sb.append("<h1>bench workspace</h1>\n<p>A static page of a few hundred bytes, the size of a small HTML answer, ");
    sb.append("so that the figures are about the gateway's work per request and not about moving bytes.</p>\n");
    sb.append("</body></html>\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
