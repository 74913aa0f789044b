package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.activities.fleet.local.ChromiumTemplate;
import io.berth.activities.fleet.local.SlotBox;
import io.berth.testkit.Await;
import io.berth.workflows.GatewayToken;
import io.berth.workflows.Labels;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The disposable browser as an attacker's tool (issue: {@code page.goto('file://<state>/jwt-secret')}
 * showed Berth's JWT key): a DevTools client opens {@code file://} URLs of Berth's secrets, the
 * neighbour's token and another user's home in a chromium workspace, 3 slots per host, and reads
 * the pages. None shows anything; a file in the slot's own directory does (the control). The
 * browser runs as the slot's uid, with Chromium's own sandbox (no {@code --no-sandbox}).
 */
class ChromiumIsolationEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JWT_SECRET_TEXT = "jwt-secret-file-content-for-the-browser-0123";
  private static final String VICTIM_NOTES = "victim's notes the browser must not show 91c2";
  static StackFixture f;
  static Path stateDir;

  @BeforeAll
  static void start() throws IOException {
    Assumptions.assumeTrue(chromiumInstalled(), "chromium is not installed (./berth test installs it as root)");
    StringBuilder why = new StringBuilder();
    Path trial = Files.createTempDirectory("berth-iso-probe");
    boolean boxable = SlotBox.probe(trial, why) != null;
    Files.delete(trial);
    Assumptions.assumeTrue(boxable, () -> "slots cannot be boxed here (" + why + "): ./berth test runs as root");
    stateDir = Files.createTempDirectory("berth-iso-chromium");
    secret(stateDir.resolve("jwt-secret"), JWT_SECRET_TEXT);
    Path victimHome = Files.createDirectories(stateDir.resolve("users").resolve(Labels.labelFor("victim")),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    secret(victimHome.resolve("notes.txt"), VICTIM_NOTES);
    f = StackFixture.start(Map.of(
        "BERTH_STATE_DIR", stateDir.toString(),
        "BERTH_TEMPLATE", "chromium",
        "BERTH_WORKSPACE_AUTH", "none",
        "BERTH_SLOTS_PER_HOST", "3",
        "BERTH_SPARES", "2"));
    f.awaitSpares(3);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static boolean chromiumInstalled() {
    try {
      ChromiumTemplate.find(null);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static void secret(Path file, String content) throws IOException {
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content);
  }

  private static Path slotDir(String user) {
    Map<String, String> ws = f.session(user);
    return stateDir.resolve("fleet").resolve(ws.get("hostId")).resolve("slot-" + ws.get("slotId").split("/")[1]);
  }

  @Test
  void fileUrlsShowNothingOfBerthAndTheBrowserKeepsItsSandbox() throws Exception {
    f.ready("victim");
    f.ready("mallory");
    Map<String, String> mallory = f.session("mallory");
    assertEquals(f.session("victim").get("hostId"), mallory.get("hostId"), "one host, 3 slots");
    int port = Integer.parseInt(mallory.get("port"));

    // The browser: the slot's uid, Chromium's sandbox on.
    long root = Long.parseLong(f.stack.redis().hget(f.stack.keys().instance(mallory.get("hostId")),
        "pid." + mallory.get("slotId").split("/")[1]));
    List<ProcessHandle> browsers = ProcessHandle.of(root).stream().flatMap(ProcessHandle::descendants)
        .filter(p -> p.info().command().map(c -> c.contains("chromium")).orElse(false)).toList();
    assertFalse(browsers.isEmpty(), "chromium runs under the slot's process");
    for (ProcessHandle p : browsers) {
      assertEquals(SlotBox.uidFor(port), uidOf(p.pid()), "chromium process " + p.pid() + " runs as the slot's uid");
      assertFalse(cmdline(p.pid()).contains("--no-sandbox"), "chromium keeps its sandbox: " + cmdline(p.pid()));
    }

    Path visible = slotDir("mallory").resolve("visible.txt");
    Files.writeString(visible, "the slot's own file 4d1e");
    Map<String, String> secrets = new LinkedHashMap<>();
    secrets.put("jwt secret", JWT_SECRET_TEXT);
    secrets.put("redis password", f.redisServer.password());
    secrets.put("gateway token", Files.readString(stateDir.resolve(GatewayToken.FILE_NAME)).trim());
    secrets.put("victim's token", f.workspaceToken("victim"));
    secrets.put("victim's home", VICTIM_NOTES);
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("jwt secret", stateDir.resolve("jwt-secret"));
    files.put("redis password", stateDir.resolve("redis-password"));
    files.put("gateway token", stateDir.resolve(GatewayToken.FILE_NAME));
    files.put("victim's token", slotDir("victim").resolve("token"));
    files.put("victim's home", stateDir.resolve("users").resolve(Labels.labelFor("victim")).resolve("notes.txt"));

    assertTrue(pageText(port, "file://" + visible).contains("the slot's own file 4d1e"),
        "control: file:// reads what is in the slot's view");
    for (String name : files.keySet()) {
      String text = pageText(port, "file://" + files.get(name));
      assertFalse(text.contains(secrets.get(name)), name + " shown to the browser: " + text);
    }
    String listing = pageText(port, "file://" + stateDir + "/");
    assertFalse(listing.contains("jwt-secret") || listing.contains("redis-password"), "state dir listed: " + listing);
    assertNotEquals(0, SlotBox.uidFor(port));
  }

  private static long uidOf(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("Uid:")) {
        return Long.parseLong(line.split("\\s+")[1]);
      }
    }
    throw new IOException("no Uid line for " + pid);
  }

  private static String cmdline(long pid) throws IOException {
    return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
        .replace('\0', ' ');
  }

  /** Opens {@code url} in a new page over DevTools and returns the page's text once it has loaded. */
  private static String pageText(int port, String url) throws Exception {
    RawHttp.Answer created = RawHttp.send(port, "127.0.0.1", "PUT", "/json/new?" + url);
    assertEquals(200, created.status(), created.body());
    JsonNode target = JSON.readTree(created.body());
    // The answer's ws URL names the Host we sent (no port): the path is what counts.
    URI ws = URI.create(target.path("webSocketDebuggerUrl").asText());
    try (Cdp cdp = new Cdp(URI.create("ws://127.0.0.1:" + port + ws.getRawPath()))) {
      String[] text = {""};
      // A new target is about:blank, complete, until the navigation commits: wait for the URL too.
      Await.until("page " + url + " loaded", Duration.ofSeconds(20), () -> {
        JsonNode r = cdp.evaluate("location.href + '\\n' + document.readyState + '\\n'"
            + " + (document.body ? document.body.innerText : '')");
        String v = r.path("result").path("result").path("value").asText("");
        text[0] = v.substring(v.indexOf('\n') + 1);
        return !v.startsWith("about:blank") && text[0].startsWith("complete");
      });
      return text[0];
    } finally {
      RawHttp.send(port, "127.0.0.1", "GET", "/json/close/" + target.path("id").asText());
    }
  }

  /** One DevTools WebSocket: sends a call, waits (bounded) for its answer. */
  private static final class Cdp implements AutoCloseable {
    private final BlockingQueue<JsonNode> answers = new LinkedBlockingQueue<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final WebSocket socket;

    Cdp(URI uri) throws Exception {
      StringBuilder partial = new StringBuilder();
      socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
          partial.append(data);
          if (last) {
            try {
              answers.add(JSON.readTree(partial.toString()));
            } catch (IOException e) {
              // not JSON: nothing we asked for
            }
            partial.setLength(0);
          }
          ws.request(1);
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
    }

    JsonNode evaluate(String expression) {
      int id = ids.incrementAndGet();
      Map<String, Object> call = Map.of("id", id, "method", "Runtime.evaluate",
          "params", Map.of("expression", expression, "returnByValue", true));
      try {
        socket.sendText(JSON.writeValueAsString(call), true).get(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
          JsonNode a = answers.poll(200, TimeUnit.MILLISECONDS);
          if (a != null && a.path("id").asInt() == id) {
            return a;
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException("DevTools call failed", e);
      }
      throw new IllegalStateException("no DevTools answer to call " + id);
    }

    @Override
    public void close() {
      socket.abort();
    }
  }
}
