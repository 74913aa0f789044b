package io.berth.activities.dns;

import static io.berth.activities.aws.TestAws.ZONE;
import static io.berth.activities.aws.TestAws.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.aws.TestAws;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FakeAws.RecordSet;
import io.berth.workflows.model.DnsRecord;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** Route53Dns against FakeAws, on the wire: Route 53 REST XML. */
class Route53DnsTest {
  private static final String HOST = "alice-2bd806c9.ws.example.com";
  private static final DnsRecord RECORD = new DnsRecord("req-1", HOST, "127.0.0.7");
  private final FakeAws fake = FakeAws.start().zone(ZONE, TestAws.DOMAIN);
  private AwsClients clients;

  @AfterEach
  void stop() {
    if (clients != null) {
      clients.close();
    }
    fake.close();
  }

  private Route53Dns dns(AwsSettings settings) {
    clients = TestAws.clients(settings);
    return new Route53Dns(settings, clients);
  }

  private Route53Dns dns() {
    return dns(TestAws.settings(fake));
  }

  /** The change batch as sent, element by element. */
  private static Map<String, String> change(FakeAws.Call call) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(call.body().getBytes(StandardCharsets.UTF_8)));
    var xp = XPathFactory.newInstance().newXPath();
    String base = "/ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change";
    assertEquals(1.0, xp.evaluate("count(" + base + ")", d, XPathConstants.NUMBER));
    assertEquals("https://route53.amazonaws.com/doc/2013-04-01/", d.getDocumentElement().getAttribute("xmlns"));
    return Map.of(
        "Action", xp.evaluate(base + "/Action", d),
        "Name", xp.evaluate(base + "/ResourceRecordSet/Name", d),
        "Type", xp.evaluate(base + "/ResourceRecordSet/Type", d),
        "TTL", xp.evaluate(base + "/ResourceRecordSet/TTL", d),
        "Values", values(xp.evaluate(base + "/ResourceRecordSet/ResourceRecords/ResourceRecord/Value", d,
            XPathConstants.NODESET)));
  }

  private static String values(Object nodes) {
    NodeList n = (NodeList) nodes;
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < n.getLength(); i++) {
      out.add(n.item(i).getTextContent());
    }
    return String.join(",", out);
  }

  @Test
  void upsertSendsOneARecordWithTtlThirty() throws Exception {
    dns().upsertRecord(RECORD);

    FakeAws.Call call = fake.calls("ChangeResourceRecordSets").get(0);
    assertEquals(Map.of("Action", "UPSERT", "Name", HOST + ".", "Type", "A", "TTL", "30", "Values", "127.0.0.7"),
        change(call));
    assertEquals(Map.of(HOST + ". A", new RecordSet(HOST + ".", "A", 30, List.of("127.0.0.7"))),
        byName(fake.records(ZONE)));

    dns().upsertRecord(new DnsRecord("req-2", HOST + ".", "127.0.0.8"));
    assertEquals(List.of("127.0.0.8"), fake.records(ZONE).values().iterator().next().values());
  }

  @Test
  void deleteReadsTheRecordAndDeletesExactlyIt() throws Exception {
    fake.putRecord(ZONE, new RecordSet(HOST, "A", 30, List.of("127.0.0.7")));
    fake.putRecord(ZONE, new RecordSet("bob-11111111." + TestAws.DOMAIN, "A", 30, List.of("127.0.0.9")));

    dns().deleteRecord(RECORD);

    FakeAws.Call list = fake.calls("ListResourceRecordSets").get(0);
    assertEquals(Map.of("name", HOST + ".", "type", "A", "maxitems", "1"), list.params());
    assertEquals(Map.of("Action", "DELETE", "Name", HOST + ".", "Type", "A", "TTL", "30", "Values", "127.0.0.7"),
        change(fake.calls("ChangeResourceRecordSets").get(0)));
    assertEquals(List.of("bob-11111111.ws.example.com."),
        fake.records(ZONE).values().stream().map(RecordSet::name).toList());
  }

  @Test
  void deletingAnAbsentRecordIsANoOp() {
    // The listing starts at the name and returns the next record in order, which is someone else's.
    fake.putRecord(ZONE, new RecordSet("zed-22222222." + TestAws.DOMAIN, "A", 30, List.of("127.0.0.9")));
    Route53Dns dns = dns();

    dns.deleteRecord(RECORD);
    dns.deleteRecord(RECORD);

    assertEquals(2, fake.calls("ListResourceRecordSets").size());
    assertEquals(0, fake.calls("ChangeResourceRecordSets").size());
    assertEquals(1, fake.records(ZONE).size());
  }

  @Test
  void aRecordRepointedByALaterAllocationIsLeftAlone() {
    fake.putRecord(ZONE, new RecordSet(HOST, "A", 30, List.of("127.0.0.99")));

    dns().deleteRecord(RECORD);

    assertEquals(0, fake.calls("ChangeResourceRecordSets").size());
    assertEquals(1, fake.records(ZONE).size());
  }

  @Test
  void aDeleteThatLostARaceIsDone() {
    fake.putRecord(ZONE, new RecordSet(HOST, "A", 30, List.of("127.0.0.7")));
    fake.failNext("ChangeResourceRecordSets", 1, 400, "InvalidChangeBatch",
        "Tried to delete resource record set [name='" + HOST + ".', type='A'] but it was not found");

    dns().deleteRecord(RECORD);

    assertEquals(1, fake.calls("ChangeResourceRecordSets").size());
  }

  @Test
  void wildcardModeSendsNothing() {
    Route53Dns dns = dns(TestAws.settings(fake).withDnsMode("wildcard"));

    dns.upsertRecord(RECORD);
    dns.deleteRecord(RECORD);

    assertEquals(List.of(), fake.calls());
  }

  @Test
  void hostnamesOutsideTheDomainOrWithBadLabelsAreRejectedWithoutACall() {
    Route53Dns dns = dns();
    for (String bad : List.of("alice.ws.example.org", "ws.example.com", "evilws.example.com", "a_b.ws.example.com",
        "-a.ws.example.com", "a..ws.example.com", "x".repeat(64) + ".ws.example.com", "", "*.ws.example.com")) {
      fails("InvalidInput", true, () -> dns.upsertRecord(new DnsRecord("r", bad, "127.0.0.7")));
      fails("InvalidInput", true, () -> dns.deleteRecord(new DnsRecord("r", bad, "127.0.0.7")));
    }
    fails("InvalidInput", true, () -> dns.upsertRecord(new DnsRecord("r", HOST, "not-an-ip")));
    assertEquals(List.of(), fake.calls());
  }

  @Test
  void throttlingIsRetryableAndAMissingZoneIsNot() {
    fake.throttleNext("ChangeResourceRecordSets", 2);
    fails("AwsRetryable", false, () -> dns().upsertRecord(RECORD));

    fake.failNext("ChangeResourceRecordSets", 2, 400, "PriorRequestNotComplete", "still working");
    fails("AwsRetryable", false, () -> dns().upsertRecord(RECORD));

    AwsSettings elsewhere = new AwsSettings("us-east-1", TestAws.GROUP, "ZNOSUCHZONE", TestAws.DOMAIN, "private",
        "record", fake.endpoint(), 8080, 1, "demo", 9100);
    fails("InvalidInput", true, () -> dns(elsewhere).upsertRecord(RECORD));
    fails("InvalidInput", true, () -> dns(elsewhere).deleteRecord(RECORD));
  }

  private static Map<String, RecordSet> byName(Map<String, RecordSet> records) {
    return Map.copyOf(records.values().stream()
        .collect(java.util.stream.Collectors.toMap(r -> r.name() + " " + r.type(), r -> r)));
  }
}
