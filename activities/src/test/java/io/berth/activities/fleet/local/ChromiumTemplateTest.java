package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.fleet.local.ChromiumTemplate.TcpConnections;
import io.berth.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChromiumTemplateTest {
  private static final Template.Launch LAUNCH =
      new Template.Launch(41234, Path.of("/s/slot-0"), null, Path.of("/s/slot-0/run-1"), Map.of());

  @Test
  void startsHeadlessOnLoopbackWithTheProcesssOwnProfile() {
    ChromiumTemplate t = new ChromiumTemplate("/bin/sh");
    List<String> argv = t.argv(LAUNCH);
    assertEquals("/bin/sh", argv.get(0));
    assertTrue(argv.contains("--headless=new"));
    assertTrue(argv.contains("--remote-debugging-address=127.0.0.1"));
    assertTrue(argv.contains("--remote-debugging-port=41234"));
    assertTrue(argv.contains("--user-data-dir=/s/slot-0/run-1/profile"));
    assertEquals("/json/version", t.probePath());
    assertTrue(t.activitySignal().isPresent());
    assertThrows(IllegalArgumentException.class, () -> new ChromiumTemplate("chromium"));
    assertThrows(IllegalArgumentException.class, () -> ChromiumTemplate.find("/nonexistent/chromium"));
    assertEquals("/bin/sh", ChromiumTemplate.find("/bin/sh").executable());
  }

  @Test
  void theTargetsDigestFollowsIdsAndUrlsNotTitlesOrOrder() {
    String a = "[{\"id\":\"A\",\"title\":\"one\",\"type\":\"page\",\"url\":\"about:blank\"},"
        + "{\"id\":\"B\",\"title\":\"x\",\"type\":\"page\",\"url\":\"https://e.test/\"}]";
    String retitledAndReordered = "[{\"id\":\"B\",\"title\":\"y\",\"type\":\"page\",\"url\":\"https://e.test/\"},"
        + "{\"id\":\"A\",\"title\":\"two\",\"type\":\"page\",\"url\":\"about:blank\"}]";
    String navigated = a.replace("https://e.test/", "https://e.test/next");
    String opened = a.replace("]", ",{\"id\":\"C\",\"type\":\"page\",\"url\":\"about:blank\"}]");
    assertEquals(ChromiumTemplate.targetsDigest(a), ChromiumTemplate.targetsDigest(retitledAndReordered));
    assertNotEquals(ChromiumTemplate.targetsDigest(a), ChromiumTemplate.targetsDigest(navigated));
    assertNotEquals(ChromiumTemplate.targetsDigest(a), ChromiumTemplate.targetsDigest(opened));
  }

  @Test
  void establishedConnectionsToAPortCountButNotThoseOfThisJvm() {
    List<String> table = List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:A0F2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1",
        "   1: 0100007F:A0F2 0100007F:C001 01 00000000:00000000 00:00000000 00000000     0        0 222 1",
        "   2: 0100007F:C001 0100007F:A0F2 01 00000000:00000000 00:00000000 00000000     0        0 333 1",
        "   3: 0100007F:A0F2 0100007F:C002 01 00000000:00000000 00:00000000 00000000     0        0 444 1",
        "   4: 0100007F:C002 0100007F:A0F2 01 00000000:00000000 00:00000000 00000000     0        0 555 1",
        "   5: 0100007F:A0F2 0100007F:C003 06 00000000:00000000 00:00000000 00000000     0        0 0 1");
    List<TcpConnections.Entry> entries = TcpConnections.parse(table);
    assertEquals(6, entries.size());
    assertEquals(2, TcpConnections.count(entries, 0xA0F2, Set.of()), "listening and TIME_WAIT rows do not count");
    assertEquals(1, TcpConnections.count(entries, 0xA0F2, Set.of("555")), "the client end is ours: not a user");
    assertEquals(0, TcpConnections.count(entries, 0xA0F3, Set.of()));
  }

  @Test
  void aClientProcessConnectedToThePortCountsAndThisJvmsOwnConnectionDoesNot() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      int port = server.getLocalPort();
      List<Socket> accepted = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(server.accept());
          }
        } catch (IOException closed) {
          // server closed
        }
      });
      acceptor.start();
      try (Socket mine = new Socket(InetAddress.getLoopbackAddress(), port)) {
        Await.until("our own connection established", Duration.ofSeconds(5), () -> accepted.size() == 1);
        assertEquals(0, TcpConnections.established(port));
        Process client = new ProcessBuilder("python3", "-c",
            "import socket,sys,time; s=socket.create_connection(('127.0.0.1'," + port + ")); sys.stdin.read()")
            .redirectErrorStream(true).start();
        try {
          Await.until("the other process's connection counted", Duration.ofSeconds(20),
              () -> established(port) == 1);
        } finally {
          client.getOutputStream().close();
          client.waitFor();
        }
        Await.until("its connection gone", Duration.ofSeconds(20), () -> established(port) == 0);
      } finally {
        server.close();
        acceptor.join(5000);
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  private static int established(int port) {
    try {
      return TcpConnections.established(port);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
