package io.berth.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code PUT /berth/credentials} {@code {"slot":0,"user":"alice","token":"…"}} and
 * {@code DELETE /berth/credentials?slot=0}, as the worker's {@code InstanceAgent} sends them. The
 * server binds the private address alone (never 0.0.0.0), and refuses a request that reached
 * another local address or came from outside {@code BERTH_AGENT_ALLOW_FROM}: tokens cross the VPC
 * in plain HTTP, so the address and the security group are the protection.
 */
final class CredentialsServer implements AutoCloseable {
  static final String PATH = "/berth/credentials";
  private static final int MAX_BODY = 16 * 1024;
  private static final int MAX_TOKEN = 4096;
  private static final Pattern SLOT_QUERY = Pattern.compile("slot=(\\d{1,4})");

  private final HttpServer server;
  private final InetAddress bound;
  private final List<Cidr> allowFrom;
  private final TokenStore store;
  private final int slots;

  CredentialsServer(InetSocketAddress listen, List<Cidr> allowFrom, TokenStore store, int slots) throws IOException {
    this.bound = listen.getAddress();
    this.allowFrom = allowFrom;
    this.store = store;
    this.slots = slots;
    server = HttpServer.create(listen, 16);
    server.createContext(PATH, this::handle);
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.start();
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      int status = refusal(ex);
      if (status == 0) {
        status = switch (ex.getRequestMethod()) {
          case "PUT" -> put(readBody(ex.getRequestBody()));
          case "DELETE" -> delete(ex.getRequestURI().getRawQuery());
          default -> 405;
        };
      }
      ex.sendResponseHeaders(status, -1);
    } catch (IOException | RuntimeException e) {
      // A token that cannot be stored must be sent again: 500 makes the worker retry.
      Log.error("credentials request failed: " + Retry.describe(e));
      ex.sendResponseHeaders(500, -1);
    }
  }

  /** 403 for a request to another local address or from a source not allowed; 0 to go on. */
  private int refusal(HttpExchange ex) {
    InetAddress to = ex.getLocalAddress().getAddress();
    InetAddress from = ex.getRemoteAddress().getAddress();
    if (!to.equals(bound)) {
      Log.warn("refused a credentials request to " + to.getHostAddress() + " (serving " + bound.getHostAddress() + " only)");
      return 403;
    }
    if (!allowFrom.isEmpty() && allowFrom.stream().noneMatch(c -> c.contains(from))) {
      Log.warn("refused a credentials request from " + from.getHostAddress() + ": not in BERTH_AGENT_ALLOW_FROM");
      return 403;
    }
    return 0;
  }

  private int put(String body) throws IOException {
    Map<String, String> f = Json.fields(body);
    Integer slot = slot(f.get("slot"));
    String user = f.get("user");
    String token = f.get("token");
    if (slot == null || user == null || user.isEmpty() || !validToken(token)) {
      Log.warn("refused credentials: slot (0.." + (slots - 1) + "), user and token are required");
      return 400;
    }
    boolean replaced = store.get(slot).isPresent();
    store.put(new Credentials(slot, user, token));
    Log.info("slot " + slot + ": " + (replaced ? "replaced the token; now " : "took the token of ") + user);
    return 204;
  }

  private int delete(String query) throws IOException {
    Matcher m = SLOT_QUERY.matcher(query == null ? "" : query);
    Integer slot = m.matches() ? slot(m.group(1)) : null;
    if (slot == null) {
      return 400;
    }
    boolean had = store.remove(slot);
    Log.info("slot " + slot + ": " + (had ? "token revoked" : "revoke asked, no token held"));
    return had ? 204 : 404;
  }

  private Integer slot(String s) {
    if (s == null || !s.matches("\\d{1,4}")) {
      return null;
    }
    int slot = Integer.parseInt(s);
    return slot < slots ? slot : null;
  }

  /** The token goes into an Authorization header: printable ASCII only, bounded. */
  private static boolean validToken(String token) {
    return token != null && !token.isEmpty() && token.length() <= MAX_TOKEN && token.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  private static String readBody(InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_BODY + 1);
    // Too long to be credentials: read as an empty body, which is refused with 400.
    return body.length > MAX_BODY ? "" : new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
