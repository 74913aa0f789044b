package io.berth.activities.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class NginxProcessTest {
  private static final Duration T = Duration.ofSeconds(2);

  @Test
  void answersUnknownHostsWith404Json() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      assertTrue(n.nginx.isRunning());
      GatewayClient.Answer a = GatewayClient.get(n.gateway(), "nobody.example.com", "/some/path", T);
      assertEquals(404, a.status());
      assertEquals("application/json", a.header("Content-Type"));
      assertEquals(NginxProcess.NOT_FOUND_BODY, a.body());
    }
  }

  @Test
  void mainConfigKeepsEveryPathInsideThePrefix() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      String conf = Files.readString(n.prefix.resolve("conf/nginx.conf"));
      for (String directive : List.of("pid", "error_log", "access_log", "client_body_temp_path", "proxy_temp_path",
          "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "include")) {
        Matcher m = Pattern.compile("(?m)^\\s*" + directive + "\\s+(\\S+)").matcher(conf);
        assertTrue(m.find(), directive + " missing");
        assertTrue(m.group(1).startsWith(n.prefix + "/"), directive + " outside prefix: " + m.group(1));
      }
      assertTrue(Files.isRegularFile(n.prefix.resolve("logs/nginx.pid")));
      assertTrue(n.nginx.test().ok(), n.nginx.test().output());
    }
  }

  @Test
  void reloadReplacesTheWorker() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      long master = n.nginx.masterPid().orElseThrow();
      ProcessHandle m = ProcessHandle.of(master).orElseThrow();
      Set<Long> before = NginxProcess.activeWorkers(m);
      assertTrue(n.nginx.reload().ok());
      // The old worker may still be alive finishing requests, but it must no longer accept.
      Set<Long> after = NginxProcess.activeWorkers(m);
      assertEquals(1, after.size(), "accepting workers after reload: " + after);
      assertTrue(after.stream().noneMatch(before::contains), "reload returned before the old worker retired");
      assertEquals(404, GatewayClient.get(n.gateway(), "x.example.com", "/", T).status());
    }
  }

  @Test
  void aFailedTestDoesNotReload() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      long worker = ProcessHandle.of(n.nginx.masterPid().orElseThrow()).orElseThrow().children().findFirst()
          .orElseThrow().pid();
      Files.writeString(n.nginx.routesDir().resolve("broken.conf"), "server { listen nonsense }\n");
      NginxProcess.TestResult r = n.nginx.reload();
      assertFalse(r.ok());
      assertTrue(r.output().contains("broken.conf"), r.output());
      assertTrue(ProcessHandle.of(worker).isPresent(), "worker replaced despite the failed test");
      Files.delete(n.nginx.routesDir().resolve("broken.conf"));
    }
  }

  @Test
  void stopEndsEveryProcessAndStartAgainWorks() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      n.nginx.stop();
      assertFalse(n.nginx.isRunning());
      assertEquals("", n.processesOfPrefix());
      assertThrows(IOException.class, () -> GatewayClient.get(n.gateway(), "x.example.com", "/", T));
      n.nginx.start();
      assertTrue(n.nginx.isRunning());
      assertEquals(404, GatewayClient.get(n.gateway(), "x.example.com", "/", T).status());
    }
  }

  @Test
  void aSecondProcessObjectAdoptsTheRunningNginx() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      long master = n.nginx.masterPid().orElseThrow();
      NginxProcess again = NginxProcess.managed(n.prefix, n.gateway().listen());
      again.start();
      assertEquals(master, again.masterPid().orElseThrow());
      again.stop();
      assertFalse(n.nginx.isRunning());
    }
  }

  @Test
  void startFailsClearlyWhenThePortIsTaken() throws IOException {
    try (PrivateNginx n = PrivateNginx.start()) {
      Path other = n.base.resolve("other");
      NginxProcess second = NginxProcess.managed(other, n.gateway().listen());
      IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
      assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
      assertFalse(second.isRunning());
    }
  }

  @Test
  void rejectsUnsafePrefixesAndListenAddresses() {
    assertThrows(IllegalArgumentException.class, () -> NginxProcess.managed(Path.of("/tmp/a b"), "127.0.0.1:1"));
    assertThrows(IllegalArgumentException.class, () -> NginxProcess.managed(Path.of("/tmp/a;b"), "127.0.0.1:1"));
    assertThrows(IllegalArgumentException.class, () -> NginxProcess.managed(Path.of("/tmp/ok"), "localhost:80"));
    assertThrows(IllegalArgumentException.class, () -> NginxProcess.managed(Path.of("/tmp/ok"), "127.0.0.1:0"));
    assertThrows(IllegalArgumentException.class, () -> NginxProcess.managed(Path.of("/tmp/ok"), "1.2.3.4:80;"));
    assertEquals("[::1]:8088", NginxProcess.managed(Path.of("/tmp/ok"), "[::1]:8088").gateway().listen());
    assertEquals("8088", NginxProcess.managed(Path.of("/tmp/ok"), "8088").gateway().listen());
  }
}
