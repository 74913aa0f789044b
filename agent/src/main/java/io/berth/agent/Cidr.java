package io.berth.agent;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/** An IPv4 or IPv6 network ({@code 10.0.0.0/16}, {@code 10.0.1.7}); only literals, never a name lookup. */
record Cidr(byte[] network, int bits) {
  static List<Cidr> list(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Cidr::parse).toList();
  }

  static Cidr parse(String s) {
    String[] parts = s.split("/", 2);
    if (!parts[0].matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("BERTH_AGENT_ALLOW_FROM: not an address literal: " + s);
    }
    try {
      byte[] network = InetAddress.getByName(parts[0]).getAddress();
      int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : network.length * 8;
      return new Cidr(network, bits);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("BERTH_AGENT_ALLOW_FROM: not an address: " + s);
    }
  }

  boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length != network.length) {
      return false;
    }
    for (int bit = 0; bit < bits; bit++) {
      int mask = 0x80 >> (bit % 8);
      if ((a[bit / 8] & mask) != (network[bit / 8] & mask)) {
        return false;
      }
    }
    return true;
  }
}
