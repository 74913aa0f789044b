package io.berth.stack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A request of any method through the gateway with a Host header of our choosing (GatewayClient does GET only). */
final class RawGateway {
  private RawGateway() {}

  record Answer(int status, String body) {}

  static Answer send(int gatewayPort, String host, String method, String path) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), gatewayPort), 5000);
      socket.setSoTimeout(10_000);
      String request = method + " " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      String text = buf.toString(StandardCharsets.UTF_8);
      int status = Integer.parseInt(text.substring(9, 12));
      int body = text.indexOf("\r\n\r\n");
      return new Answer(status, body < 0 ? "" : text.substring(body + 4));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
