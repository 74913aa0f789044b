package io.berth.stack.temporal;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Temporal frontend has no authentication, and workspace processes share the
 * machine's loopback. So the TCP frontend serves only connections whose client socket belongs to
 * Berth's own OS user or to root: the kernel's socket table ({@code /proc/net/tcp*}) names the
 * owner of every local socket, and a boxed slot runs as a uid of its own (SlotBox). Checked once
 * per connection ({@link #filter()}), enforced on every call ({@link #interceptor()}).
 */
final class PeerUid {
  private static final Logger log = LoggerFactory.getLogger(PeerUid.class);
  private static final Attributes.Key<Boolean> ALLOWED = Attributes.Key.create("berth.peer-allowed");
  private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

  private PeerUid() {}

  static ServerTransportFilter filter() {
    long self = ownUid();
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attrs) {
        SocketAddress remote = attrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        SocketAddress local = attrs.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
        boolean allowed = false;
        if (remote instanceof InetSocketAddress r && local instanceof InetSocketAddress l) {
          OptionalLong uid = uidOf(r, l.getPort());
          allowed = uid.isPresent() && (uid.getAsLong() == self || uid.getAsLong() == 0);
          if (!allowed) {
            log.warn("embedded Temporal: refused a connection from {} (uid {}): only Berth's own user may connect", r,
                uid.isPresent() ? uid.getAsLong() : "unknown");
          }
        }
        return attrs.toBuilder().set(ALLOWED, allowed).build();
      }
    };
  }

  static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                         ServerCallHandler<Q, A> next) {
        if (!Boolean.TRUE.equals(call.getAttributes().get(ALLOWED))) {
          call.close(Status.PERMISSION_DENIED.withDescription("only Berth's own OS user may use this Temporal"),
              new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
  }

  /** The owner of the socket at {@code client} connected to our {@code serverPort}, from the kernel's tables. */
  static OptionalLong uidOf(InetSocketAddress client, int serverPort) {
    String clientPort = String.format(Locale.ROOT, "%04X", client.getPort());
    String serverPortHex = String.format(Locale.ROOT, "%04X", serverPort);
    for (Path table : TABLES) {
      List<String> lines;
      try {
        lines = Files.readAllLines(table, StandardCharsets.US_ASCII);
      } catch (NoSuchFileException e) {
        continue;
      } catch (IOException e) {
        return OptionalLong.empty();
      }
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..."
        String[] f = line.trim().split("\\s+");
        if (f.length < 8 || !f[1].endsWith(":" + clientPort) || !f[2].endsWith(":" + serverPortHex)
            || !sameAddress(f[1], client.getAddress())) {
          continue;
        }
        try {
          return OptionalLong.of(Long.parseLong(f[7]));
        } catch (NumberFormatException e) {
          return OptionalLong.empty();
        }
      }
    }
    return OptionalLong.empty();
  }

  /** The table's address is the raw bytes in host order (little-endian words). */
  private static boolean sameAddress(String hexAddrPort, InetAddress a) {
    String hex = hexAddrPort.substring(0, hexAddrPort.indexOf(':'));
    byte[] raw = a.getAddress();
    StringBuilder want = new StringBuilder();
    if (a instanceof Inet4Address && hex.length() == 32) {
      // An IPv4 client of an IPv6 socket: ::ffff:a.b.c.d
      want.append("0000000000000000FFFF0000");
    }
    for (int w = 0; w < raw.length; w += 4) {
      for (int i = 3; i >= 0; i--) {
        want.append(String.format(Locale.ROOT, "%02X", raw[w + i]));
      }
    }
    return hex.equalsIgnoreCase(want.toString());
  }

  static long ownUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("Uid:")) {
          return Long.parseLong(line.split("\\s+")[2]);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read own uid: {}", e.toString());
    }
    return -1;
  }
}
