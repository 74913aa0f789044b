package io.berth.stack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One request of any method to a loopback port with a Host header of our choosing (the JDK client
 * refuses to set Host; GatewayClient does GET only and reads to the end of the stream, which a
 * server that keeps the connection open, as Chromium's DevTools does, never sends).
 */
final class RawHttp {
  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

  private RawHttp() {}

  record Answer(int status, String body) {}

  static Answer send(int port, String host, String method, String path) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      socket.setSoTimeout(10_000);
      String request = method + " " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return read(socket.getInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Headers, then Content-Length bytes when given, else up to the end of the stream. */
  private static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int headersEnd = -1;
    long wanted = -1;
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) >= 0) {
      buf.write(chunk, 0, n);
      String text = buf.toString(StandardCharsets.ISO_8859_1);
      if (headersEnd < 0 && (headersEnd = text.indexOf("\r\n\r\n")) >= 0) {
        Matcher m = CONTENT_LENGTH.matcher(text.substring(0, headersEnd));
        wanted = m.find() ? Long.parseLong(m.group(1)) : -1;
      }
      if (headersEnd >= 0 && wanted >= 0 && buf.size() >= headersEnd + 4 + wanted) {
        break;
      }
    }
    String text = buf.toString(StandardCharsets.UTF_8);
    if (!text.toUpperCase(Locale.ROOT).startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + text);
    }
    int status = Integer.parseInt(text.substring(9, 12));
    int body = text.indexOf("\r\n\r\n");
    return new Answer(status, body < 0 ? "" : text.substring(body + 4));
  }
}
