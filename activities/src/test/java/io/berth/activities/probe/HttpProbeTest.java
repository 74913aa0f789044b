package io.berth.activities.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.testkit.FreePorts;
import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HttpProbeTest {
  private HttpServer server;
  private volatile HttpServer lateServer;
  private final CopyOnWriteArrayList<String> paths = new CopyOnWriteArrayList<>();
  private final HttpProbe probe = new HttpProbe(Map.of("demo", "/healthz", "chromium", "/json/version",
      "moved", "/moved", "broken", "/broken"), Duration.ofSeconds(1), Duration.ZERO, true);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      paths.add(path);
      int status = switch (path) {
        case "/healthz", "/json/version" -> 200;
        case "/moved" -> 302;
        case "/broken" -> 500;
        default -> 404;
      };
      if (status == 302) {
        exchange.getResponseHeaders().set("Location", "/elsewhere");
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Slot slot(String address, int port, String template) {
    return new Slot("h1/0", "h1", 0, address, port, template);
  }

  private int port() {
    return server.getAddress().getPort();
  }

  @Test
  void theCommandTemplatesConfiguredPathIsProbedAndTheBuiltInsKeepTheirs() {
    HttpProbe configured = probeWith("/json/version");
    assertTrue(configured.probeSlot(slot("127.0.0.1", port(), "command")).ready());
    assertTrue(configured.probeSlot(slot("127.0.0.1", port(), "code-server")).ready());
    assertEquals(List.of("/json/version", "/healthz"), List.copyOf(paths));
    assertFalse(probeWith("/nope%2F").probeSlot(slot("127.0.0.1", port(), "command")).ready());
    assertThrows(IllegalArgumentException.class, () -> probeWith("/bad%zz"));
  }

  private static HttpProbe probeWith(String commandPath) {
    return new HttpProbe(HttpProbe.pathsWith("command", commandPath), Duration.ofSeconds(1), Duration.ZERO, true);
  }

  @Test
  void aLiveSlotIsReadyAtItsTemplatePath() {
    ProbeResult r = probe.probeSlot(slot("127.0.0.1", port(), "demo"));
    assertTrue(r.ready(), r.detail());
    assertEquals(200, r.status());
    assertTrue(probe.probeSlot(slot("127.0.0.1", port(), "chromium")).ready());
    assertEquals(java.util.List.of("/healthz", "/json/version"), paths);
    probe.awaitReady(slot("127.0.0.1", port(), "demo"));
  }

  @Test
  void redirectsCountAsReadyAndErrorsDoNot() {
    ProbeResult moved = probe.probeSlot(slot("127.0.0.1", port(), "moved"));
    assertTrue(moved.ready());
    assertEquals(302, moved.status());
    ProbeResult broken = probe.probeSlot(slot("127.0.0.1", port(), "broken"));
    assertFalse(broken.ready());
    assertEquals(500, broken.status());
    ProbeResult unknownTemplate = probe.probeSlot(slot("127.0.0.1", port(), "other"));
    assertEquals(404, unknownTemplate.status());
    assertEquals("/", paths.get(paths.size() - 1));
  }

  @Test
  void aDeadSlotIsReportedNotThrown() {
    int dead = FreePorts.next();
    ProbeResult r = probe.probeSlot(slot("127.0.0.1", dead, "demo"));
    assertFalse(r.ready());
    assertEquals(0, r.status());
    assertTrue(r.detail().contains("ConnectException"), r.detail());

    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> probe.awaitReady(slot("127.0.0.1", dead,
        "demo")));
    assertEquals("NotReady", f.getType());
    assertFalse(f.isNonRetryable());
  }

  @Test
  void awaitReadyKeepsProbingWithinItsWindow() throws IOException {
    int port = FreePorts.next();
    HttpProbe patient = new HttpProbe(HttpProbe.DEFAULT_PATHS, Duration.ofSeconds(1), Duration.ofSeconds(10), true);
    Thread late = new Thread(() -> {
      try {
        Thread.sleep(300);
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4);
        s.createContext("/", e -> {
          e.sendResponseHeaders(200, -1);
          e.close();
        });
        s.start();
        lateServer = s;
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    late.start();
    try {
      patient.awaitReady(slot("127.0.0.1", port, "demo"));
    } finally {
      try {
        late.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (lateServer != null) {
        lateServer.stop(0);
      }
    }
  }

  @Test
  void aSlotThatNeverAnswersTimesOut() throws IOException {
    // Accepts the connection but never answers: the probe must give up after its timeout.
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      ProbeResult r = probe.probeSlot(slot("127.0.0.1", silent.getLocalPort(), "demo"));
      assertFalse(r.ready());
      assertTrue(r.detail().contains("timed out"), r.detail());
    }
  }

  @Test
  void addressesAreValidated() {
    for (Slot bad : new Slot[] {slot("127.0.0.1/x", port(), "demo"), slot("127.0.0.1:80", port(), "demo"),
        slot("user@127.0.0.1", port(), "demo"), slot("", port(), "demo"), slot(null, port(), "demo"),
        slot("127.0.0.1", 0, "demo"), slot("127.0.0.1", 70000, "demo"), slot("10.1.2.3", port(), "demo"),
        slot("example.com", port(), "demo"), null}) {
      ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> probe.probeSlot(bad), String.valueOf(bad));
      assertEquals("InvalidInput", f.getType());
      assertTrue(f.isNonRetryable());
    }
    // An IPv6 loopback literal is a valid address (nothing listens there: a report, not a throw).
    assertFalse(new HttpProbe().probeSlot(slot("::1", FreePorts.next(), "demo")).ready());
    assertThrows(IllegalArgumentException.class,
        () -> new HttpProbe(Map.of("x", "/a b"), Duration.ofSeconds(1), Duration.ZERO, false));
    assertThrows(IllegalArgumentException.class,
        () -> new HttpProbe(Map.of("x", "http://evil/"), Duration.ofSeconds(1), Duration.ZERO, false));
  }
}
