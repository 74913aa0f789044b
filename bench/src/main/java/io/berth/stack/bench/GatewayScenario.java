package io.berth.stack.bench;

import io.berth.activities.routing.GatewayClient;
import io.berth.workflows.Labels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code gateway}: what the private Nginx with its auth subrequest to the API costs a workspace,
 * for page requests and WebSocket messages, against the same workspace server reached straight;
 * and with activity recording (BERTH_ACTIVITY=traffic,heartbeat) against without it
 * (BERTH_ACTIVITY=heartbeat). The API reads that setting at start, so the two are two stacks, one
 * after the other, each measured against the straight path in its own run. Also heartbeats with
 * a body (form, JSON) and without.
 *
 * <p>The workspace servers are in this JVM (a static page, a WebSocket echo) so that the gateway
 * is what is measured: each stack allocates real workspaces, then their route records point at
 * those servers instead of the slots.
 */
final class GatewayScenario {
  private static final Duration CELL_WARM_UP = Duration.ofSeconds(1);
  private static final Duration WARM_UP_ROUND = Duration.ofSeconds(1);
  private static final int HEARTBEAT_CONNECTIONS = 32;
  private static final byte[] MESSAGE = "{\"type\":\"input\",\"data\":\"a keystroke's worth of text, 64 bytes.\"}"
      .getBytes(StandardCharsets.US_ASCII);
  private static final List<String> USERS = List.of("gw-page", "gw-ws", "gw-hb-0", "gw-hb-1");

  /** A measured row: how the page or socket was reached, in which stack's run (activity recorded or not). */
  private record Cell(String path, boolean gateway, boolean recorded, KeepAliveLoad.Result result) {
    int connections() {
      return result.connections();
    }
  }

  /** A heartbeat body: its name, Content-Type (null: none) and bytes. */
  private record Body(String name, String contentType, String body) {}

  private static final List<Body> BODIES = List.of(
      new Body("no body", null, ""),
      new Body("form", "application/x-www-form-urlencoded", "source=input&at=1764969600000&tab=1"),
      new Body("JSON", "application/json", "{\"source\":\"input\",\"at\":1764969600000,\"tab\":1}"));

  private final List<Cell> http = new ArrayList<>();
  private final List<Cell> ws = new ArrayList<>();
  private final List<Cell> authChecks = new ArrayList<>();
  private final List<String> warmUps = new ArrayList<>();
  private final List<Cell> heartbeats = new ArrayList<>();
  private Duration timed;
  private String template;

  void run(Report report, int seconds, int[] levels) throws Exception {
    timed = Duration.ofSeconds(seconds);
    try (PageServer page = PageServer.start(4); WebSocketEcho echo = WebSocketEcho.start()) {
      stackRun(page, echo, levels, "traffic,heartbeat", "recorded", true);
      stackRun(page, echo, levels, "heartbeat", "not recorded", false);
    }
    write(report, seconds, levels);
  }

  /** One stack: straight and through its gateway, at each level; the heartbeats on the first. */
  private void stackRun(PageServer page, WebSocketEcho echo, int[] levels, String activity, String tag,
                        boolean withHeartbeats) throws Exception {
    Path www = null;
    Map<String, String> env = new HashMap<>();
    String n = String.valueOf(USERS.size());
    env.put("BERTH_SPARES", n);
    env.put("BERTH_MIN_HOSTS", n);
    env.put("BERTH_MAX_HOSTS", n);
    env.put("BERTH_SLOTS_PER_HOST", "1");
    env.put("BERTH_RECONCILE_INTERVAL", "PT1S");
    env.put("BERTH_ACTIVITY", activity);
    // As the heartbeat scenario: a run crosses a few windows, so recorded traffic does write.
    env.put("BERTH_HEARTBEAT_WINDOW", "PT5S");
    if (Templates.python() != null) {
      www = Templates.www();
      env.put("BERTH_TEMPLATE", "command");
      env.put("BERTH_TEMPLATE_COMMAND", Templates.pythonCommand(www));
      template = "`command`, python3 -m http.server per slot";
    } else {
      template = "`demo`";
    }
    System.out.println("bench: starting a gateway stack with BERTH_ACTIVITY=" + activity);
    try (BenchStack s = BenchStack.start(env)) {
      s.awaitSpares(USERS.size(), Duration.ofMinutes(3));
      Rounds.parallel(USERS, USERS.size(), u -> WarmScenario.allocate(s, u));
      String pageCookie = pointAt(s, "gw-page", page.port());
      String wsCookie = pointAt(s, "gw-ws", echo.port());
      KeepAliveLoad.Opener directPage = KeepAliveLoad.http("127.0.0.1", page.port(),
          i -> get("127.0.0.1:" + page.port(), null), 200);
      KeepAliveLoad.Opener gatewayPage = KeepAliveLoad.http("127.0.0.1", s.gatewayPort,
          i -> get(s.hostname("gw-page"), pageCookie), 200);
      KeepAliveLoad.Opener directWs = KeepAliveLoad.webSocket("127.0.0.1", echo.port(), "127.0.0.1:" + echo.port(),
          null, MESSAGE);
      KeepAliveLoad.Opener gatewayWs = KeepAliveLoad.webSocket("127.0.0.1", s.gatewayPort, s.hostname("gw-ws"),
          wsCookie, MESSAGE);
      KeepAliveLoad.Opener auth = KeepAliveLoad.http("127.0.0.1", apiPort(s),
          i -> authCheck(s.hostname("gw-page"), pageCookie), 204);
      List<String> tokens = USERS.stream().map(s::workspaceToken).toList();
      KeepAliveLoad.Opener beats = KeepAliveLoad.http("127.0.0.1", apiPort(s),
          i -> heartbeat(tokens.get(i % tokens.size()), BODIES.get(0)), 204);
      // Untimed, until the JIT compiler has settled: the API's auth and heartbeat paths, this generator.
      // The second stack runs in the same JVM with much of it compiled already; without this the
      // first stack's rows would carry the compiler and the recording would look dearer than it is.
      Rounds.WarmUp warm = Rounds.warmUp(round -> {
        KeepAliveLoad.run(10, Duration.ZERO, WARM_UP_ROUND, gatewayPage);
        KeepAliveLoad.run(10, Duration.ZERO, WARM_UP_ROUND, auth);
        KeepAliveLoad.run(10, Duration.ZERO, WARM_UP_ROUND, gatewayWs);
        KeepAliveLoad.run(10, Duration.ZERO, WARM_UP_ROUND, beats);
      });
      warmUps.add("BERTH_ACTIVITY=" + activity + ": " + warm.describe().replace(" at 10 concurrent", ""));
      String straight = "straight (in the run of the stack with activity " + tag + ")";
      String through = "gateway, activity " + tag + " (BERTH_ACTIVITY=" + activity + ")";
      boolean recorded = activity.contains("traffic");
      for (int c : levels) {
        http.add(measure(straight, false, recorded, c, directPage));
        http.add(measure(through, true, recorded, c, gatewayPage));
        authChecks.add(measure("auth check alone, activity " + tag + " (BERTH_ACTIVITY=" + activity + ")", true,
            recorded, c, auth));
        ws.add(measure(straight, false, recorded, c, directWs));
        ws.add(measure(through, true, recorded, c, gatewayWs));
      }
      if (withHeartbeats) {
        for (Body b : BODIES) {
          KeepAliveLoad.Opener o = KeepAliveLoad.http("127.0.0.1", apiPort(s),
              i -> heartbeat(tokens.get(i % tokens.size()), b), 204);
          heartbeats.add(measure("heartbeat, " + b.name(), false, recorded, HEARTBEAT_CONNECTIONS, o));
        }
      }
    } finally {
      if (www != null) {
        BenchStack.deleteTree(www);
      }
    }
  }

  /**
   * Points the user's route record at a server of this JVM (the API reads the record on every
   * request through the gateway, so no reload or restart is needed), and returns the owner's
   * cookie after checking that a page or upgrade now reaches it.
   */
  private static String pointAt(BenchStack s, String user, int port) throws IOException {
    String label = Labels.labelFor(user);
    s.stack.redis().hset(s.stack.keys().route(label), Map.of("address", "127.0.0.1", "port", String.valueOf(port)));
    String cookie = s.cookie(user);
    if (cookie == null) {
      throw new IllegalStateException("no workspace cookie for " + user);
    }
    GatewayClient.Answer a = GatewayClient.get("127.0.0.1", s.gatewayPort, s.hostname(user), "/",
        Duration.ofSeconds(5), Map.of("Cookie", cookie));
    if (!label.equals(a.header("X-Berth-Route"))) {
      throw new IllegalStateException(user + " not routed through the gateway: " + a.status());
    }
    return cookie;
  }

  private Cell measure(String path, boolean gateway, boolean recorded, int c, KeepAliveLoad.Opener o)
      throws InterruptedException {
    KeepAliveLoad.Result r = KeepAliveLoad.run(c, CELL_WARM_UP, timed, o);
    System.out.printf("bench: gateway %s c=%d: %,.0f/s p50 %s p99 %s, %d errors%s%n", path, c, r.rate(),
        Stats.ms(r.latency().p(50)), Stats.ms(r.latency().p(99)), r.errors(),
        r.firstError() == null ? "" : " (first: " + r.firstError() + ")");
    return new Cell(path, gateway, recorded, r);
  }

  private static int apiPort(BenchStack s) {
    return URI.create(s.stack.apiUrl()).getPort();
  }

  /** What Nginx's auth subrequest sends the API for a page request of the workspace's owner. */
  private static byte[] authCheck(String host, String cookie) {
    return ("GET /api/gateway/auth HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie + "\r\n"
        + "X-Berth-Routing: dynamic\r\nX-Berth-Method: GET\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] get(String host, String cookie) {
    return ("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: berth-bench\r\nAccept: text/html\r\n"
        + (cookie == null ? "" : "Cookie: " + cookie + "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] heartbeat(String token, Body b) {
    byte[] body = b.body().getBytes(StandardCharsets.US_ASCII);
    return ("POST /api/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n"
        + (b.contentType() == null ? "" : "Content-Type: " + b.contentType() + "\r\n")
        + "Content-Length: " + body.length + "\r\n\r\n" + b.body()).getBytes(StandardCharsets.US_ASCII);
  }

  private void write(Report report, int seconds, int[] levels) {
    Report.Section sec = report.section("gateway", "Through the gateway and straight");
    sec.text("A static page of " + PageServer.PAGE.length + " bytes from the JDK's HttpServer (4 threads) and a "
        + "WebSocket echo (RFC 6455 over a raw ServerSocket, a thread per socket), both in the bench's JVM on "
        + "127.0.0.1, reached straight and through the stack's Nginx: there the workspace's Host header and its "
        + "owner's cookie (from a launch link), and every request passes Nginx's auth subrequest to the API, which "
        + "reads the route record from Redis and, with BERTH_ACTIVITY holding `traffic`, records the request as "
        + "activity (at most one Redis write per workspace per heartbeat window, here 5 s). Real workspaces are "
        + "allocated (template " + template + "), then their route records point at the bench's servers. The "
        + "setting is read at the API's start, so the two gateway rows come from two stacks run one after the "
        + "other; each is set against the straight path measured in its own run. Closed loop: a fixed number of "
        + "keep-alive connections (or sockets), each with one request (or message) in flight, from threads of the "
        + "bench's JVM, " + seconds + " s timed per row after a 1 s warm-up. Before its first row, each stack ran "
        + String.join("; ", warmUps) + " (a round: 1 s each of gateway pages, auth checks, WebSocket messages and "
        + "heartbeats at 10 connections). CPU: all cores' busy share over the window, and the load "
        + "generator's own part of it (the API, the worker and Temporal share this JVM; Nginx and Redis are "
        + "processes of their own). Nginx opens a new connection to the workspace for every request (the upstream "
        + "comes from a variable, so there is no upstream keepalive).");
    sec.text("Page requests (GET /, " + PageServer.PAGE.length + "-byte answer):");
    sec.table(List.of("path", "connections", "requests", "requests/s", "p50", "p99", "errors", "CPU busy"),
        rows(http, false));
    sec.text("The API's part of each gateway request alone: GET /api/gateway/auth straight to the API, with what "
        + "Nginx's subrequest carries (the workspace's Host, the owner's cookie, X-Berth-Routing: dynamic, "
        + "X-Berth-Method: GET); 204 with the upstream. An upper bound on pages/s through the gateway on this machine:");
    sec.table(List.of("path", "connections", "requests", "requests/s", "p50", "p99", "errors", "CPU busy"),
        rows(authChecks, false));
    sec.text("WebSocket: sockets opened (Upgrade) all at once, then " + MESSAGE.length + "-byte text messages echoed; "
        + "open = the handshake (through the gateway: with its auth subrequest), round trip = one message out and "
        + "its echo back.");
    sec.table(List.of("path", "sockets", "open p50 / p99", "messages", "messages/s", "round trip p50", "p99", "errors",
        "CPU busy"), rows(ws, true));
    List<List<String>> ratios = new ArrayList<>();
    for (int c : levels) {
      ratios.add(ratioRow("page requests", c, http));
      ratios.add(ratioRow("WebSocket messages", c, ws));
      double rec = rate(authChecks, c, true, true);
      double plain = rate(authChecks, c, true, false);
      ratios.add(List.of("auth check alone", String.valueOf(c), "-", "-", String.format("%+.1f%%", 100 * (1 - rec / plain))));
    }
    sec.text("Ratios (each gateway row against the straight row of its own stack's run). A WebSocket's messages do "
        + "not pass the API (only its opening does), so its recorded / not recorded difference is this machine's "
        + "run-to-run noise; so is the auth check's, which differs only by the map lookup that finds the "
        + "workspace written within its window.");
    sec.table(List.of("what", "concurrency", "gateway recorded / straight", "gateway not recorded / straight",
        "cost of recording (1 − recorded / not recorded)"), ratios);
    sec.text("Heartbeats: POST /api/heartbeat straight to the API with the " + USERS.size() + " workspaces' own "
        + "tokens, " + HEARTBEAT_CONNECTIONS + " keep-alive connections from the bench's JVM, on the first stack "
        + "(BERTH_ACTIVITY=traffic,heartbeat), the same closed loop. The `heartbeats` scenario measures the same "
        + "path (no body) with 50 workspaces and wrk when installed.");
    List<List<String>> hb = new ArrayList<>();
    for (int i = 0; i < heartbeats.size(); i++) {
      Body b = BODIES.get(i);
      KeepAliveLoad.Result r = heartbeats.get(i).result();
      hb.add(List.of(b.name(), b.contentType() == null ? "-" : "`" + b.contentType() + "`",
          String.valueOf(b.body().length()), String.valueOf(r.connections()), String.format("%,d", r.requests()),
          String.format("%,.0f/s", r.rate()), Stats.ms(r.latency().p(50)), Stats.ms(r.latency().p(99)),
          String.valueOf(r.errors()), r.cpu()));
    }
    sec.table(List.of("body", "Content-Type", "bytes", "connections", "heartbeats", "rate", "p50", "p99", "errors",
        "CPU busy"), hb);
    for (int c : levels) {
      sec.target("page requests/s, gateway with activity recorded / straight, at " + c + " connections",
          100 * rate(http, c, true, true) / rate(http, c, false, true), 50, " %", false);
    }
    for (int c : levels) {
      sec.target("WebSocket messages/s, gateway / straight, at " + c + " sockets",
          100 * rate(ws, c, true, true) / rate(ws, c, false, true), 50, " %", false);
    }
    for (int c : levels) {
      sec.target("cost of recording activity, page requests/s at " + c + " connections",
          100 * (1 - rate(http, c, true, true) / rate(http, c, true, false)), 10, " %", true);
    }
    for (int i = 1; i < heartbeats.size(); i++) {
      sec.target("heartbeats/s with a " + BODIES.get(i).name() + " body", heartbeats.get(i).result().rate(), 2000,
          "/s", false);
    }
    Report.print(sec);
  }

  private static List<List<String>> rows(List<Cell> cells, boolean sockets) {
    List<List<String>> rows = new ArrayList<>();
    for (Cell cell : cells) {
      KeepAliveLoad.Result r = cell.result();
      List<String> row = new ArrayList<>(List.of(cell.path(), String.valueOf(r.connections())));
      if (sockets) {
        row.add(Stats.ms(r.open().p(50)) + " / " + Stats.ms(r.open().p(99)));
      }
      row.addAll(List.of(String.format("%,d", r.requests()), String.format("%,.0f/s", r.rate()),
          Stats.ms(r.latency().p(50)), Stats.ms(r.latency().p(99)), String.valueOf(r.errors()), r.cpu()));
      rows.add(row);
    }
    return rows;
  }

  private static List<String> ratioRow(String what, int c, List<Cell> cells) {
    double rec = rate(cells, c, true, true);
    double plain = rate(cells, c, true, false);
    return List.of(what, String.valueOf(c),
        String.format("%.0f%%", 100 * rec / rate(cells, c, false, true)),
        String.format("%.0f%%", 100 * plain / rate(cells, c, false, false)),
        String.format("%+.1f%%", 100 * (1 - rec / plain)));
  }

  private static double rate(List<Cell> cells, int c, boolean gateway, boolean recorded) {
    return cells.stream().filter(x -> x.connections() == c && x.gateway() == gateway && x.recorded() == recorded)
        .mapToDouble(x -> x.result().rate()).findFirst().orElse(Double.NaN);
  }
}
