package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.RedisKeys;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The requests real clients send, byte for byte: no body, {@code curl -d ''} (a form content type
 * and no bytes), a form, {@code text/plain} (what {@code navigator.sendBeacon} sends with a
 * string), JSON, and {@code HttpURLConnection} (which adds a form content type to any POST it
 * writes). Each reaches the endpoint: a workspace's heartbeat, a script's allocation or extension.
 */
@MicronautTest
class ClientShapesApiTest extends ApiTestBase {
  private final RedisKeys keys = new RedisKeys("berth:");

  /** A request as one client sends it: its content type (null: none) and body (null: no body at all). */
  record Shape(String name, String contentType, String body) {}

  static final List<Shape> SHAPES = List.of(
      new Shape("no body", null, null),
      new Shape("curl -d ''", "application/x-www-form-urlencoded", ""),
      new Shape("form", "application/x-www-form-urlencoded", "source=demo&n=1"),
      new Shape("sendBeacon text/plain", "text/plain;charset=UTF-8", "active"),
      new Shape("JSON", "application/json", "{\"source\":\"demo\"}"),
      new Shape("empty JSON", "application/json", ""),
      new Shape("octet-stream", "application/octet-stream", "\u0001\u0002"));

  @Test
  void everyShapeOfHeartbeatWithItsTokenIs204AndRecordsActivity() {
    for (Shape shape : SHAPES) {
      String user = user("shape");
      String token = stack.heartbeatSession(user, allocated(user));
      Raw a = raw("POST", "/api/heartbeat", "Bearer " + token, shape.contentType(), shape.body());
      assertEquals(204, a.status(), shape.name() + ": " + a.body());
      assertTrue(stack.redis.hexists(keys.workspace(user), "lastSeen"), shape.name() + " recorded activity");
    }
  }

  @Test
  void everyShapeOfHeartbeatWithABadTokenIs401AndResetsNothing() {
    String user = user("victim");
    stack.heartbeatSession(user, allocated(user));
    for (Shape shape : SHAPES) {
      Raw a = raw("POST", "/api/heartbeat", "Bearer " + UUID.randomUUID() + "-" + UUID.randomUUID(),
          shape.contentType(), shape.body());
      assertEquals(401, a.status(), shape.name() + ": " + a.body());
      assertTrue(a.body().contains("\"unauthorized\""), shape.name() + ": " + a.body());
      Raw none = raw("POST", "/api/heartbeat", null, shape.contentType(), shape.body());
      assertEquals(401, none.status(), shape.name() + " without a token: " + none.body());
    }
    assertTrue(!stack.redis.hexists(keys.workspace(user), "lastSeen"), "no activity recorded");
    assertEquals(0, stack.heartbeatSignals(user), "no timer reset");
  }

  @Test
  void httpUrlConnectionHeartbeatIs204() throws IOException {
    String user = user("huc");
    String token = stack.heartbeatSession(user, allocated(user));
    // What the demo server did: a POST with output enabled gets Content-Type x-www-form-urlencoded.
    HttpURLConnection c = (HttpURLConnection) server.getURI().resolve("/api/heartbeat").toURL().openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Authorization", "Bearer " + token);
    c.getOutputStream().close();
    assertEquals(204, c.getResponseCode());
    assertTrue(stack.redis.hexists(keys.workspace(user), "lastSeen"));
  }

  @Test
  void curlInItsCommonShapesReachesTheHeartbeat() throws Exception {
    String user = user("curl");
    String token = stack.heartbeatSession(user, allocated(user));
    String url = server.getURI().resolve("/api/heartbeat").toString();
    for (List<String> args : List.of(
        List.of("-X", "POST"),
        List.of("-d", ""),
        List.of("-d", "a=b"),
        List.of("-H", "Content-Type: text/plain", "--data-binary", "x"),
        List.of("--json", "{}"))) {
      List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
          "-H", "Authorization: Bearer " + token));
      cmd.addAll(args);
      cmd.add(url);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS));
      if (args.contains("--json") && !out.equals("204") && p.exitValue() == 2) {
        continue; // a curl older than 7.82 has no --json
      }
      assertEquals("204", out, "curl " + args);
    }
  }

  @Test
  void aHeartbeatBodyPastTheBoundIsRefusedWithoutBeingRead() {
    String user = user("big");
    String token = stack.heartbeatSession(user, allocated(user));
    Raw a = raw("POST", "/api/heartbeat", "Bearer " + token, "text/plain", "x".repeat(1 << 20));
    assertEquals(413, a.status(), a.body());
    assertTrue(!stack.redis.hexists(keys.workspace(user), "lastSeen"), "a refused beat records nothing");
  }

  @Test
  void allocateExtendLaunchAndReleaseTakeEveryEmptyBodyShape() {
    for (Shape shape : SHAPES) {
      if (shape.body() != null && !shape.body().isEmpty()) {
        continue;
      }
      String user = user("empty");
      String bearer = "Bearer " + token(user);
      Raw allocate = raw("POST", "/api/workspaces", bearer, shape.contentType(), shape.body());
      assertEquals(200, allocate.status(), shape.name() + " allocate: " + allocate.body());
      Raw extend = raw("POST", "/api/workspaces/me/extend", bearer, shape.contentType(), shape.body());
      assertEquals(200, extend.status(), shape.name() + " extend: " + extend.body());
      Raw launch = raw("POST", "/api/workspaces/me/launch", bearer, shape.contentType(), shape.body());
      assertNotEquals(401, launch.status(), shape.name() + " launch: " + launch.body());
      assertNotEquals(415, launch.status(), shape.name() + " launch: " + launch.body());
      Raw release = raw("DELETE", "/api/workspaces/me", bearer, shape.contentType(), shape.body());
      assertEquals(202, release.status(), shape.name() + " release: " + release.body());
    }
  }

  @Test
  void allocateAndExtendReadAFormAsTheyReadJson() {
    String user = user("form");
    String bearer = "Bearer " + token(user);
    Raw allocate = raw("POST", "/api/workspaces", bearer, "application/x-www-form-urlencoded", "template=demo");
    assertEquals(200, allocate.status(), allocate.body());
    Raw extend = raw("POST", "/api/workspaces/me/extend", bearer, "application/x-www-form-urlencoded", "seconds=120");
    assertEquals(200, extend.status(), extend.body());
    Raw bad = raw("POST", "/api/workspaces/me/extend", bearer, "application/x-www-form-urlencoded", "seconds=many");
    assertEquals(400, bad.status(), bad.body());
    assertTrue(bad.body().contains("\"bad_request\""), bad.body());
    Raw text = raw("POST", "/api/workspaces/me/extend", bearer, "text/plain", "not json");
    assertEquals(400, text.status(), text.body());
  }

  @Test
  void aFieldThatBreaksItsConstraintIs400WithTheJsonErrorNamingIt() {
    String user = user("invalid");
    String bearer = "Bearer " + token(user);
    for (Shape shape : List.of(new Shape("JSON", "application/json", "{\"template\":\"../../bin/sh\"}"),
        new Shape("form", "application/x-www-form-urlencoded", "template=Demo"))) {
      Raw a = raw("POST", "/api/workspaces", bearer, shape.contentType(), shape.body());
      assertEquals(400, a.status(), shape.name() + ": " + a.body());
      assertTrue(a.body().contains("{\"error\":\"bad_request\",\"message\":\"template must be 1 to 32 of a-z"),
          shape.name() + ": " + a.body());
    }
    assertFalse(stack.redis.exists(keys.workspace(user)), "nothing was allocated");
    assertEquals(200, raw("POST", "/api/workspaces", bearer, "application/json", "{\"template\":\"demo\"}").status());
    for (Shape shape : List.of(new Shape("JSON", "application/json", "{\"seconds\":0}"),
        new Shape("form", "application/x-www-form-urlencoded", "seconds=-5"))) {
      Raw a = raw("POST", "/api/workspaces/me/extend", bearer, shape.contentType(), shape.body());
      assertEquals(400, a.status(), shape.name() + ": " + a.body());
      assertTrue(a.body().contains("{\"error\":\"bad_request\",\"message\":\"seconds must be at least 1\"}"),
          shape.name() + ": " + a.body());
    }
  }

  @Test
  void anOperatorsForceReleaseTakesAnEmptyForm() {
    String user = user("forced");
    allocated(user);
    Raw a = raw("DELETE", "/api/admin/workspaces/" + user, "Bearer " + admin("ops"),
        "application/x-www-form-urlencoded", "");
    assertEquals(202, a.status(), a.body());
  }

  /** An answer read off the socket. */
  record Raw(int status, String body) {}

  /** One HTTP/1.1 request exactly as given: no header added but Host, Content-Length (with a body) and Connection. */
  private Raw raw(String method, String path, String authorization, String contentType, String body) {
    URI base = server.getURI();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5_000);
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      byte[] bytes = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      if (authorization != null) {
        head.append("Authorization: ").append(authorization).append("\r\n");
      }
      if (contentType != null) {
        head.append("Content-Type: ").append(contentType).append("\r\n");
      }
      if (bytes != null) {
        head.append("Content-Length: ").append(bytes.length).append("\r\n");
      }
      head.append("Connection: close\r\n\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      if (bytes != null) {
        try {
          out.write(bytes);
          out.flush();
        } catch (IOException refusedEarly) {
          // the server may answer and close before reading a refused body: its answer is what counts
        }
      }
      String text = read(s.getInputStream());
      int end = text.indexOf("\r\n\r\n");
      return new Raw(Integer.parseInt(text.split(" ")[1]), end < 0 ? "" : text.substring(end + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = in.read(buf)) > 0; ) {
        b.write(buf, 0, n);
      }
    } catch (IOException reset) {
      if (b.size() == 0) {
        throw reset;
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }
}
