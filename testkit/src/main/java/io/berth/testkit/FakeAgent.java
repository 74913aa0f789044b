package io.berth.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Berth instance agent's credentials endpoint on one instance address (a loopback address
 * from {@link FakeAws}): {@code PUT /berth/credentials} with {@code {"slot":n,"user":..,"token":..}}
 * stores, {@code DELETE /berth/credentials?slot=n} forgets (404 when there was nothing).
 */
public final class FakeAgent implements AutoCloseable {
  private static final Pattern FIELD = Pattern.compile("\"(slot|user|token)\"\\s*:\\s*(\\d+|\"((?:[^\"\\\\]|\\\\.)*)\")");

  /** What the agent holds for a slot. */
  public record Credentials(String user, String token) {}

  /** One request: method, query, body. */
  public record Request(String method, String query, String body) {}

  private final HttpServer server;
  private final Map<Integer, Credentials> slots = new ConcurrentHashMap<>();
  private final List<Request> requests = new ArrayList<>();

  private FakeAgent(String address, int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(address, port), 0);
    server.createContext("/berth/credentials", this::handle);
    server.start();
  }

  public static FakeAgent start(String address, int port) {
    try {
      return new FakeAgent(address, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Credentials credentials(int slot) {
    return slots.get(slot);
  }

  public synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String query = ex.getRequestURI().getQuery();
      synchronized (this) {
        requests.add(new Request(ex.getRequestMethod(), query, body));
      }
      int status = switch (ex.getRequestMethod()) {
        case "PUT" -> put(body);
        case "DELETE" -> slots.remove(Integer.parseInt(query.replaceFirst("^slot=", ""))) == null ? 404 : 204;
        default -> 405;
      };
      ex.sendResponseHeaders(status, -1);
    } catch (RuntimeException e) {
      ex.sendResponseHeaders(400, -1);
    }
  }

  private int put(String body) {
    Map<String, String> fields = new ConcurrentHashMap<>();
    Matcher m = FIELD.matcher(body);
    while (m.find()) {
      String raw = m.group(3) != null ? m.group(3) : m.group(2);
      fields.put(m.group(1), unescape(raw));
    }
    if (!fields.keySet().containsAll(List.of("slot", "user", "token"))) {
      return 400;
    }
    slots.put(Integer.parseInt(fields.get("slot")), new Credentials(fields.get("user"), fields.get("token")));
    return 204;
  }

  /** JSON string escapes as the Berth worker writes them: \" \\ and \\uXXXX. */
  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
      } else if (s.charAt(i + 1) == 'u') {
        out.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
        i += 5;
      } else {
        out.append(s.charAt(++i));
      }
    }
    return out.toString();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
