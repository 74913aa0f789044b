package io.berth.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API's {@code POST /api/heartbeat} on 127.0.0.1: 204 for a bearer token it was told is live,
 * 401 for any other. Every beat is recorded with the token it carried and the size of its body.
 */
final class FakeApi implements AutoCloseable {
  /** One heartbeat as received. */
  record Beat(String token, int status, int bodyBytes) {}

  private final HttpServer server;
  private final Set<String> live = ConcurrentHashMap.newKeySet();
  private final List<Beat> beats = new ArrayList<>();

  FakeApi() {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/api/heartbeat", this::handle);
    server.start();
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  void live(String token) {
    live.add(token);
  }

  synchronized List<Beat> beats() {
    return List.copyOf(beats);
  }

  synchronized long beats(String token) {
    return beats.stream().filter(b -> b.token().equals(token)).count();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      int body = ex.getRequestBody().readAllBytes().length;
      String auth = String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
      String token = auth.startsWith("Bearer ") ? auth.substring(7) : "";
      int status = "POST".equals(ex.getRequestMethod()) && live.contains(token) ? 204 : 401;
      synchronized (this) {
        beats.add(new Beat(token, status, body));
      }
      ex.sendResponseHeaders(status, -1);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
