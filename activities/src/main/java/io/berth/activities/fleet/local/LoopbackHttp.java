package io.berth.activities.fleet.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One GET to a slot's loopback port over a socket of its own, closed after the answer: the
 * fleet's own requests never linger as established connections that would look like a user's
 * (see {@link ChromiumTemplate}). {@code Host} is the upstream's own address, which servers that
 * check it (Chromium's DevTools) accept.
 */
final class LoopbackHttp {
  private static final int MAX_RESPONSE = 1 << 20;
  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d{1,9})\\s*$");

  private LoopbackHttp() {}

  record Answer(int status, String body) {
    boolean ok() {
      return status >= 200 && status < 400;
    }
  }

  /** {@code path} comes from a template (a constant or a validated probe path), never from a user. */
  static Answer get(int port, String path, Duration timeout) throws IOException {
    int millis = (int) Math.max(1, timeout.toMillis());
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), millis);
      socket.setSoTimeout(millis);
      String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nUser-Agent: berth-fleet\r\nAccept: */*\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return parse(readAll(socket.getInputStream()));
    }
  }

  /**
   * Up to Content-Length after the headers when the answer gives one, else to the end of the
   * stream: DevTools keeps the connection open after its answer, whatever the request asked.
   */
  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    int headersEnd = -1;
    long length = -1;
    int n;
    while ((n = in.read(chunk)) >= 0) {
      buf.write(chunk, 0, n);
      if (buf.size() > MAX_RESPONSE) {
        throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
      }
      if (headersEnd < 0) {
        String text = buf.toString(StandardCharsets.ISO_8859_1);
        headersEnd = text.indexOf("\r\n\r\n");
        if (headersEnd >= 0) {
          Matcher m = CONTENT_LENGTH.matcher(text.substring(0, headersEnd));
          length = m.find() ? Long.parseLong(m.group(1)) : -1;
        }
      }
      if (headersEnd >= 0 && length >= 0 && buf.size() >= headersEnd + 4 + length) {
        break;
      }
    }
    return buf.toByteArray();
  }

  /** Status line and body; a chunked body keeps its chunk sizes, which is fine for digests and probes. */
  private static Answer parse(byte[] raw) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int lineEnd = text.indexOf("\r\n");
    String[] status = (lineEnd < 0 ? text : text.substring(0, lineEnd)).split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/") || !status[1].matches("\\d{3}")) {
      throw new IOException("malformed HTTP response");
    }
    int headersEnd = text.indexOf("\r\n\r\n");
    String body = headersEnd < 0 ? "" : new String(raw, headersEnd + 4, raw.length - headersEnd - 4,
        StandardCharsets.UTF_8);
    return new Answer(Integer.parseInt(status[1]), body);
  }
}
