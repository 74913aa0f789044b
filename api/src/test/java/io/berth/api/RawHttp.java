package io.berth.api;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One HTTP/1.1 GET over a socket with the Host and Cookie headers of our choosing, as Nginx sends
 * them on a workspace's behalf (the JDK client refuses to set Host). Headers only: the gateway
 * endpoints' bodies do not matter to Nginx.
 */
final class RawHttp {
  /** What the test APIs take as the gateway's token ({@code berth.gateway.token}); Nginx would send it. */
  static final String GATEWAY_TOKEN = "test-gateway-token-0123456789abcdef-0123456789";

  private RawHttp() {}

  record Answer(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** As the gateway asks: with its token. */
  static Answer get(URI base, String path, String host, String cookie) {
    return get(base, path, host, cookie, GATEWAY_TOKEN, Map.of());
  }

  /** {@code gatewayToken}: null sends none, as anyone but the gateway would. */
  static Answer get(URI base, String path, String host, String cookie, String gatewayToken) {
    return get(base, path, host, cookie, gatewayToken, Map.of());
  }

  /** With more headers, as Nginx passes the browser's own ({@code Accept}, {@code Sec-Fetch-Mode}) and sets its {@code X-Berth-*}. */
  static Answer get(URI base, String path, String host, String cookie, Map<String, String> sent) {
    return get(base, path, host, cookie, GATEWAY_TOKEN, sent);
  }

  private static Answer get(URI base, String path, String host, String cookie, String gatewayToken,
                            Map<String, String> sent) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      StringBuilder extra = new StringBuilder();
      sent.forEach((k, v) -> extra.append(k).append(": ").append(v).append("\r\n"));
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
          + (cookie == null ? "" : "Cookie: " + cookie + "\r\n") + extra
          + (gatewayToken == null ? "" : "X-Berth-Gateway-Token: " + gatewayToken + "\r\n")
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      String[] lines = text.substring(0, text.indexOf("\r\n\r\n")).split("\r\n");
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
            (a, b) -> a + "\n" + b);
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers, text.substring(text.indexOf("\r\n\r\n") + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
