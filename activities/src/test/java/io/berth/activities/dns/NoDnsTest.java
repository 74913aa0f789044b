package io.berth.activities.dns;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import io.berth.workflows.model.DnsRecord;
import org.junit.jupiter.api.Test;

class NoDnsTest {
  @Test
  void upsertAndDeleteDoNothingAndNeverFail() {
    NoDns dns = new NoDns();
    DnsRecord r = new DnsRecord("req", "ann.berth.localhost", "127.0.0.1");
    assertDoesNotThrow(() -> dns.upsertRecord(r));
    assertDoesNotThrow(() -> dns.deleteRecord(r));
    assertDoesNotThrow(() -> dns.deleteRecord(r));
  }
}
