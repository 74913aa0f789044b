package io.berth.stack.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal RFC 6455 echo server (handshake, text and binary frames echoed, ping, close) on a raw
 * ServerSocket, one thread per connection, and the matching client: enough to time a socket's
 * opening and its round trips through the gateway and straight, with nothing else in the way.
 */
final class WebSocketEcho implements AutoCloseable {
  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private final ServerSocket server;

  private WebSocketEcho(ServerSocket server) {
    this.server = server;
  }

  static WebSocketEcho start() throws IOException {
    ServerSocket server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
    WebSocketEcho echo = new WebSocketEcho(server);
    Thread accept = new Thread(echo::acceptLoop, "bench-ws-accept");
    accept.setDaemon(true);
    accept.start();
    return echo;
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread t = new Thread(() -> serve(s), "bench-ws-echo");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private static void serve(Socket s) {
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      Map<String, String> headers = Http.headers(in);
      String key = headers.get("sec-websocket-key");
      if (key == null) {
        out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return;
      }
      out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      while (true) {
        Frame f = Frame.read(in);
        switch (f.opcode()) {
          case 0x8 -> {
            Frame.write(out, 0x8, f.payload(), false);
            return;
          }
          case 0x9 -> Frame.write(out, 0xA, f.payload(), false);
          case 0xA -> { }
          default -> Frame.write(out, f.opcode(), f.payload(), false);
        }
      }
    } catch (IOException e) {
      // the client went away: the connection's thread ends
    }
  }

  static String accept(String key) {
    try {
      byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key.trim() + GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  /** One frame, unmasked payload. */
  record Frame(int opcode, byte[] payload) {
    static Frame read(InputStream in) throws IOException {
      int b0 = in.read();
      int b1 = in.read();
      if (b0 < 0 || b1 < 0) {
        throw new EOFException("socket closed");
      }
      long len = b1 & 0x7F;
      if (len == 126) {
        len = (Http.readByte(in) << 8) | Http.readByte(in);
      } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) {
          len = (len << 8) | Http.readByte(in);
        }
      }
      if (len > 1 << 20) {
        throw new IOException("frame too large for the bench: " + len);
      }
      byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
      byte[] payload = in.readNBytes((int) len);
      if (payload.length != len) {
        throw new EOFException("socket closed in a frame");
      }
      if (mask != null) {
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i & 3];
        }
      }
      return new Frame(b0 & 0x0F, payload);
    }

    /** One final frame in one write: a client masks (RFC 6455 5.3), a server does not. */
    static void write(OutputStream out, int opcode, byte[] payload, boolean masked) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + 14);
      b.write(0x80 | opcode);
      int maskBit = masked ? 0x80 : 0;
      if (payload.length < 126) {
        b.write(maskBit | payload.length);
      } else if (payload.length < 65536) {
        b.write(maskBit | 126);
        b.write(payload.length >> 8);
        b.write(payload.length & 0xFF);
      } else {
        b.write(maskBit | 127);
        for (int i = 7; i >= 0; i--) {
          b.write((int) ((long) payload.length >> (8 * i)) & 0xFF);
        }
      }
      if (masked) {
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        b.write(mask);
        for (int i = 0; i < payload.length; i++) {
          b.write(payload[i] ^ mask[i & 3]);
        }
      } else {
        b.write(payload);
      }
      out.write(b.toByteArray());
      out.flush();
    }
  }

  /** A client socket after a 101: text frames out (masked), echoes back. */
  static final class Client implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private Client(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new BufferedInputStream(socket.getInputStream());
      this.out = new BufferedOutputStream(socket.getOutputStream());
    }

    /** Opens {@code ws://host:port/} with the given Host header (and Cookie, when not null); throws unless 101. */
    static Client open(String host, int port, String hostHeader, String cookie) throws IOException {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        Client c = new Client(s);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        c.out.write(("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
            + (cookie == null ? "" : "Cookie: " + cookie + "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
        c.out.flush();
        Map<String, String> headers = Http.headers(c.in);
        if (!headers.getOrDefault(":status", "").startsWith("HTTP/1.1 101")
            || !accept(key).equals(headers.get("sec-websocket-accept"))) {
          throw new IOException("no WebSocket upgrade: " + headers.get(":status"));
        }
        return c;
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e;
      }
    }

    /** Sends {@code message} and waits for its echo. */
    void echo(byte[] message) throws IOException {
      Frame.write(out, 0x1, message, true);
      Frame f = Frame.read(in);
      if (f.opcode() != 0x1 || f.payload().length != message.length) {
        throw new IOException("unexpected frame: opcode " + f.opcode() + ", " + f.payload().length + " bytes");
      }
    }

    @Override
    public void close() {
      try {
        Frame.write(out, 0x8, new byte[0], true);
      } catch (IOException e) {
        // closing anyway
      }
      try {
        socket.close();
      } catch (IOException e) {
        // nothing left to do
      }
    }
  }

  /** The HTTP/1.1 head parsing the echo server, its client and {@link KeepAliveLoad} share. */
  static final class Http {
    private Http() {}

    static int readByte(InputStream in) throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("socket closed");
      }
      return b;
    }

    /** One CRLF-terminated line (ISO-8859-1), without the line end; null at a clean end of stream. */
    static String line(InputStream in) throws IOException {
      StringBuilder sb = new StringBuilder(64);
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          int n = sb.length();
          return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
        }
        sb.append((char) b);
      }
      if (sb.length() == 0) {
        return null;
      }
      throw new EOFException("socket closed in a line");
    }

    /** The start line as {@code :status} and every header, names lowercased (the last of a repeated one wins). */
    static Map<String, String> headers(InputStream in) throws IOException {
      String start = line(in);
      if (start == null) {
        throw new EOFException("socket closed before a head");
      }
      Map<String, String> h = new java.util.HashMap<>();
      h.put(":status", start);
      String l;
      while ((l = line(in)) != null && !l.isEmpty()) {
        int colon = l.indexOf(':');
        if (colon > 0) {
          h.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
      }
      return h;
    }
  }
}
