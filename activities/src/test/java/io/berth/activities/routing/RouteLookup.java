package io.berth.activities.routing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.workflows.RedisKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import redis.clients.jedis.UnifiedJedis;

/**
 * The API's two gateway answers that dynamic routing needs without workspace auth (the API's own
 * tests cover the cookie side): {@code /api/gateway/auth} answers 204 with the route record's
 * upstream, or 403; {@code /api/gateway/route} 204 with the label, or 404; {@code /api/gateway/gone}
 * the JSON 404 a client without a cookie gets. Real HTTP, real Redis.
 */
final class RouteLookup implements AutoCloseable {
  private final HttpServer server;
  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final String domain;
  final AtomicInteger authCalls = new AtomicInteger();
  /** Distinct client connections seen (by remote port). */
  final AtomicInteger connections = new AtomicInteger();
  private final java.util.Set<Integer> remotePorts = java.util.concurrent.ConcurrentHashMap.newKeySet();

  RouteLookup(UnifiedJedis redis, RedisKeys keys, String domain) {
    this.redis = redis;
    this.keys = keys;
    this.domain = domain;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext(WorkspaceAuth.API_AUTH_PATH, this::auth);
    server.createContext(WildcardServer.API_ROUTE_PATH, this::route);
    server.createContext(WildcardServer.API_GONE_PATH, this::gone);
    server.start();
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private String label(HttpExchange ex) {
    String host = String.valueOf(ex.getRequestHeaders().getFirst("Host")).replaceFirst(":\\d+$", "");
    return host.endsWith("." + domain) ? host.substring(0, host.length() - domain.length() - 1) : "";
  }

  private void auth(HttpExchange ex) throws IOException {
    authCalls.incrementAndGet();
    if (remotePorts.add(ex.getRemoteAddress().getPort())) {
      connections.incrementAndGet();
    }
    String label = label(ex);
    List<String> r = redis.hmget(keys.route(label), "address", "port");
    if (r.get(0) == null || !"dynamic".equals(ex.getRequestHeaders().getFirst(WildcardServer.ROUTING_HEADER))) {
      ex.sendResponseHeaders(403, -1);
    } else {
      String address = r.get(0).contains(":") ? "[" + r.get(0) + "]" : r.get(0);
      ex.getResponseHeaders().set(WildcardServer.UPSTREAM_HEADER, address + ":" + r.get(1));
      ex.getResponseHeaders().set(ServerBlock.ROUTE_HEADER, label);
      ex.sendResponseHeaders(204, -1);
    }
    ex.close();
  }

  /** What the API answers a client without a workspace cookie; the method must be GET whatever the request's. */
  private void gone(HttpExchange ex) throws IOException {
    byte[] body = NginxProcess.NOT_FOUND_BODY.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(ex.getRequestMethod().equals("GET") ? 404 : 405, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }

  private void route(HttpExchange ex) throws IOException {
    if (remotePorts.add(ex.getRemoteAddress().getPort())) {
      connections.incrementAndGet();
    }
    String label = label(ex);
    if (redis.exists(keys.route(label))) {
      ex.getResponseHeaders().set(ServerBlock.ROUTE_HEADER, label);
      ex.sendResponseHeaders(204, -1);
    } else {
      ex.sendResponseHeaders(404, -1);
    }
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
