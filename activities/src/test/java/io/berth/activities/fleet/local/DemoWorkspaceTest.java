package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoWorkspaceTest {
  @TempDir
  Path slotDir;

  @Test
  void heartbeatsAreRateLimitedAndNeedAToken() throws Exception {
    ConcurrentLinkedQueue<String> auth = new ConcurrentLinkedQueue<>();
    HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    api.createContext("/api/heartbeat", ex -> {
      auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    api.start();
    try {
      DemoWorkspace w = new DemoWorkspace(slotDir,
          URI.create("http://127.0.0.1:" + api.getAddress().getPort() + "/api/heartbeat"));
      w.reportActivity();
      w.drain();
      assertTrue(auth.isEmpty(), "no token file, no heartbeat");

      String token = "abcdefghijklmnopqrstuvwxyz_0123456789-ABCDE";
      Files.writeString(slotDir.resolve("token"), token + "\n");
      long start = System.nanoTime();
      for (int i = 0; i < 10; i++) {
        w.reportActivity();
      }
      w.drain();
      Assumptions.assumeTrue(System.nanoTime() - start < 4_000_000_000L, "machine too slow to test a 5 s window");
      assertEquals(List.of("Bearer " + token), List.copyOf(auth), "one heartbeat per 5 s window");
    } finally {
      api.stop(0);
    }
  }

  @Test
  void pageEscapesTheOwner() {
    String page = DemoWorkspace.page("<script>alert('x')</script>&\"");
    assertTrue(page.contains("Workspace of &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
    assertTrue(!page.contains("<script>alert"));
  }
}
