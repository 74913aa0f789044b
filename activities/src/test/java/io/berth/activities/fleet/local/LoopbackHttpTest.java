package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LoopbackHttpTest {
  /** Answers once and keeps the connection open, as DevTools does; returns the request it read. */
  private static CompletableFuture<String> answerAndHold(ServerSocket server, String response) {
    return CompletableFuture.supplyAsync(() -> {
      try (Socket s = server.accept()) {
        InputStream in = s.getInputStream();
        StringBuilder request = new StringBuilder();
        while (!request.toString().endsWith("\r\n\r\n")) {
          request.append((char) in.read());
        }
        OutputStream out = s.getOutputStream();
        out.write(response.getBytes(StandardCharsets.UTF_8));
        out.flush();
        in.read(); // until the client closes
        return request.toString();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void readsUpToContentLengthFromAServerThatKeepsTheConnectionOpen() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<String> request = answerAndHold(server,
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n[ {} ]\n");
      LoopbackHttp.Answer a = LoopbackHttp.get(server.getLocalPort(), "/json/list", Duration.ofSeconds(5));
      assertEquals(200, a.status());
      assertEquals("[ {} ]\n", a.body());
      String sent = request.get(5, TimeUnit.SECONDS);
      assertEquals(true, sent.startsWith("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:" + server.getLocalPort() + "\r\n"));
      assertEquals(true, sent.contains("Connection: close\r\n"));
    }
  }
}
