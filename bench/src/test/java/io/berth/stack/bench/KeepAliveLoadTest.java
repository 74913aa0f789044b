package io.berth.stack.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The gateway scenario's servers and load generator, without a stack. */
class KeepAliveLoadTest {
  @Test
  void framesRoundTripMaskedAndOfEveryLengthForm() throws IOException {
    for (int n : new int[] {0, 125, 126, 65535, 65536}) {
      byte[] payload = new byte[n];
      for (int i = 0; i < n; i++) {
        payload[i] = (byte) i;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      WebSocketEcho.Frame.write(out, 0x2, payload, true);
      WebSocketEcho.Frame f = WebSocketEcho.Frame.read(new ByteArrayInputStream(out.toByteArray()));
      assertEquals(0x2, f.opcode());
      assertArrayEquals(payload, f.payload());
    }
  }

  @Test
  void acceptKeyIsTheRfcExample() {
    assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketEcho.accept("dGhlIHNhbXBsZSBub25jZQ=="));
  }

  @Test
  void pagesAndEchoesCountOnlyInsideTheWindow() throws Exception {
    try (PageServer page = PageServer.start(2); WebSocketEcho echo = WebSocketEcho.start()) {
      byte[] get = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      KeepAliveLoad.Result pages = KeepAliveLoad.run(2, Duration.ofMillis(100), Duration.ofMillis(300),
          KeepAliveLoad.http("127.0.0.1", page.port(), i -> get, 200));
      assertEquals(0, pages.errors(), pages.firstError());
      assertTrue(pages.requests() > 0, "requests " + pages.requests());
      assertEquals(pages.requests(), pages.latency().n());

      KeepAliveLoad.Result wrong = KeepAliveLoad.run(1, Duration.ZERO, Duration.ofMillis(100),
          KeepAliveLoad.http("127.0.0.1", page.port(), i -> get, 204));
      assertTrue(wrong.errors() > 0);

      KeepAliveLoad.Result messages = KeepAliveLoad.run(2, Duration.ofMillis(100), Duration.ofMillis(300),
          KeepAliveLoad.webSocket("127.0.0.1", echo.port(), "127.0.0.1", null, "hello".getBytes()));
      assertEquals(0, messages.errors(), messages.firstError());
      assertTrue(messages.requests() > 0, "messages " + messages.requests());
      assertEquals(2, messages.open().n());
    }
  }

  @Test
  void aPlainRequestGetsNoUpgrade() throws Exception {
    try (PageServer page = PageServer.start(1)) {
      assertThrows(IOException.class, () -> WebSocketEcho.Client.open("127.0.0.1", page.port(), "x", null));
    }
  }
}
