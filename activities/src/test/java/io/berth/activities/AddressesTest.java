package io.berth.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AddressesTest {
  @Test
  void ipLiterals() {
    for (String ok : List.of("127.0.0.1", "10.0.0.255", "0.0.0.0", "::1", "fe80::1", "2001:db8::8:800:200c:417a",
        "::ffff:127.0.0.1")) {
      assertTrue(Addresses.ipLiteral(ok), ok);
    }
    for (String bad : List.of("256.0.0.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "[::1]", "::1%lo", "1::2::3", ":",
        "localhost", "", "1.2.3.4 ", "gggg::1")) {
      assertFalse(Addresses.ipLiteral(bad), bad);
    }
    assertFalse(Addresses.ipLiteral(null));
  }

  @Test
  void domainNames() {
    for (String ok : List.of("localhost", "berth.localhost", "a-1.example.com", "x.127.0.0.1.nip.io")) {
      assertTrue(Addresses.domainName(ok), ok);
    }
    for (String bad : List.of("", "Example.com", "a..b", ".a", "a.", "-a.com", "a-.com", "a_b.com", "a b.com",
        "1.2.3.4", "a.com;", "a.com}", "a\n.com", "x".repeat(64) + ".com", ("a".repeat(63) + ".").repeat(4) + "com")) {
      assertFalse(Addresses.domainName(bad), bad);
    }
  }

  @Test
  void loopbackAndUrlForm() {
    assertTrue(Addresses.loopback("127.0.0.1"));
    assertTrue(Addresses.loopback("127.8.9.10"));
    assertTrue(Addresses.loopback("::1"));
    assertTrue(Addresses.loopback("localhost"));
    assertFalse(Addresses.loopback("10.0.0.1"));
    assertFalse(Addresses.loopback("example.com"));
    assertEquals("[::1]", Addresses.forUrl("::1"));
    assertEquals("127.0.0.1", Addresses.forUrl("127.0.0.1"));
  }
}
