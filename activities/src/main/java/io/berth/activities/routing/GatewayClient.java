package io.berth.activities.routing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One HTTP/1.1 GET over a plain socket, with a {@code Host} header of our choosing: the JDK's
 * HttpClient refuses to set {@code Host}, and routing by server name is exactly what is tested.
 */
public final class GatewayClient {
  private static final int MAX_RESPONSE = 1 << 20;

  private GatewayClient() {}

  /** Status, headers (names lowercased) and body of one answer. */
  public record Answer(int status, Map<String, String> headers, String body) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  public static Answer get(Gateway gateway, String hostHeader, String path, Duration timeout) throws IOException {
    return get(gateway.connectHost(), gateway.port(), hostHeader, path, timeout);
  }

  public static Answer get(String address, int port, String hostHeader, String path, Duration timeout)
      throws IOException {
    return get(address, port, hostHeader, path, timeout, Map.of());
  }

  /** With extra request headers (names and values without control characters). */
  public static Answer get(String address, int port, String hostHeader, String path, Duration timeout,
                           Map<String, String> extraHeaders) throws IOException {
    if (!safe(hostHeader) || !safe(path) || !path.startsWith("/")) {
      throw new IllegalArgumentException("host header or path with spaces or control characters");
    }
    StringBuilder extra = new StringBuilder();
    extraHeaders.forEach((name, value) -> {
      if (!safe(name) || name.contains(":") || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException("header with control characters");
      }
      extra.append(name).append(": ").append(value).append("\r\n");
    });
    int millis = (int) Math.max(1, timeout.toMillis());
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(address, port), millis);
      socket.setSoTimeout(millis);
      OutputStream out = socket.getOutputStream();
      String request = "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader
          + "\r\nUser-Agent: berth-gateway-client\r\nConnection: close\r\n" + extra + "\r\n";
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return parse(readAll(socket.getInputStream()));
    } catch (NumberFormatException e) {
      throw new IOException("malformed HTTP response", e);
    }
  }

  private static boolean safe(String s) {
    return s != null && !s.isEmpty() && s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) >= 0) {
      buf.write(chunk, 0, n);
      if (buf.size() > MAX_RESPONSE) {
        throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
      }
    }
    return buf.toByteArray();
  }

  private static Answer parse(byte[] raw) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new IOException("incomplete HTTP response");
    }
    String[] lines = text.substring(0, end).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) {
      throw new IOException("not an HTTP response");
    }
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim(), (a, b) -> a + ", " + b);
      }
    }
    byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = unchunk(body);
    }
    return new Answer(Integer.parseInt(statusLine[1]), Map.copyOf(headers), new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] unchunk(byte[] body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int pos = 0;
    while (true) {
      int lineEnd = indexOfCrlf(body, pos);
      if (lineEnd < 0) {
        throw new IOException("bad chunked body");
      }
      String sizeField = new String(body, pos, lineEnd - pos, StandardCharsets.US_ASCII).split(";")[0].trim();
      int size = Integer.parseInt(sizeField, 16);
      if (size == 0) {
        return out.toByteArray();
      }
      int start = lineEnd + 2;
      if (start + size > body.length) {
        throw new IOException("truncated chunk");
      }
      out.write(body, start, size);
      pos = start + size + 2;
    }
  }

  private static int indexOfCrlf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
