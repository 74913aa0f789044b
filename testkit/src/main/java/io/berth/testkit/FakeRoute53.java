package io.berth.testkit;

import static io.berth.testkit.AwsWire.R53_NS;
import static io.berth.testkit.AwsWire.el;

import io.berth.testkit.AwsWire.Failure;
import io.berth.testkit.FakeAws.RecordSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Route 53 REST XML: ChangeResourceRecordSets and ListResourceRecordSets on hosted zones. Not thread-safe: FakeAws locks. */
final class FakeRoute53 {
  private final Map<String, String> zones = new TreeMap<>();
  private final Map<String, TreeMap<String, RecordSet>> records = new TreeMap<>();

  void zone(String id, String domain) {
    zones.put(id, dotted(domain));
    records.put(id, new TreeMap<>());
  }

  Map<String, RecordSet> records(String zone) {
    return Map.copyOf(records.get(zone));
  }

  void put(String zone, RecordSet r) {
    records.get(zone).put(sortKey(r.name(), r.type()), new RecordSet(dotted(r.name()), r.type(), r.ttl(), r.values()));
  }

  String handle(String action, String path, Map<String, String> params, String body) {
    String zone = path.replaceFirst("^/2013-04-01/hostedzone/", "").replaceFirst("/rrset/?$", "");
    if (!zones.containsKey(zone)) {
      throw new Failure(404, "NoSuchHostedZone", "No hosted zone found with ID: " + zone);
    }
    return "ChangeResourceRecordSets".equals(action) ? change(zone, body) : list(zone, params);
  }

  /** All changes of a batch apply, or none. */
  private String change(String zone, String body) {
    TreeMap<String, RecordSet> rs = new TreeMap<>(records.get(zone));
    NodeList changes = AwsWire.parse(body).getElementsByTagNameNS(R53_NS, "Change");
    for (int i = 0; i < changes.getLength(); i++) {
      Element c = (Element) changes.item(i);
      NodeList vals = c.getElementsByTagNameNS(R53_NS, "Value");
      List<String> values = new ArrayList<>();
      for (int j = 0; j < vals.getLength(); j++) {
        values.add(vals.item(j).getTextContent());
      }
      RecordSet r = new RecordSet(dotted(text(c, "Name")), text(c, "Type"), Long.parseLong(text(c, "TTL")), values);
      if (!r.name().equals(zones.get(zone)) && !r.name().endsWith("." + zones.get(zone))) {
        throw new Failure(400, "InvalidChangeBatch", "RRSet with DNS name " + r.name() + " is not permitted in zone "
            + zones.get(zone));
      }
      apply(rs, text(c, "Action"), r);
    }
    records.put(zone, rs);
    return "<ChangeResourceRecordSetsResponse xmlns=\"" + R53_NS + "\"><ChangeInfo>" + el("Id", "/change/C"
        + Long.toHexString(System.nanoTime()).toUpperCase()) + el("Status", "PENDING") + el("SubmittedAt",
        Instant.now()) + "</ChangeInfo></ChangeResourceRecordSetsResponse>";
  }

  /** DELETE must name the record exactly as it is (TTL and values), as Route 53 demands. */
  private static void apply(TreeMap<String, RecordSet> rs, String action, RecordSet r) {
    String key = sortKey(r.name(), r.type());
    String what = "resource record set [name='" + r.name() + "', type='" + r.type() + "']";
    switch (action) {
      case "UPSERT" -> rs.put(key, r);
      case "CREATE" -> {
        if (rs.putIfAbsent(key, r) != null) {
          throw new Failure(400, "InvalidChangeBatch", "Tried to create " + what + " but it already exists");
        }
      }
      case "DELETE" -> {
        if (!rs.containsKey(key)) {
          throw new Failure(400, "InvalidChangeBatch", "Tried to delete " + what + " but it was not found");
        }
        if (!rs.get(key).equals(r)) {
          throw new Failure(400, "InvalidChangeBatch", "Tried to delete " + what
              + " but the values provided do not match the current values");
        }
        rs.remove(key);
      }
      default -> throw new Failure(400, "InvalidInput", "unknown action " + action);
    }
  }

  /** Records from (name, type) on, in Route 53's order. */
  private String list(String zone, Map<String, String> p) {
    String start = sortKey(p.getOrDefault("name", ""), p.getOrDefault("type", ""));
    int max = Integer.parseInt(p.getOrDefault("maxitems", "300"));
    List<RecordSet> page = records.get(zone).tailMap(start, true).values().stream().limit(max + 1L).toList();
    StringBuilder x = new StringBuilder("<ListResourceRecordSetsResponse xmlns=\"" + R53_NS + "\"><ResourceRecordSets>");
    for (RecordSet r : page.subList(0, Math.min(max, page.size()))) {
      x.append("<ResourceRecordSet>").append(el("Name", r.name())).append(el("Type", r.type()))
          .append(el("TTL", r.ttl())).append("<ResourceRecords>");
      r.values().forEach(v -> x.append("<ResourceRecord>").append(el("Value", v)).append("</ResourceRecord>"));
      x.append("</ResourceRecords></ResourceRecordSet>");
    }
    x.append("</ResourceRecordSets>").append(el("IsTruncated", page.size() > max));
    if (page.size() > max) {
      x.append(el("NextRecordName", page.get(max).name())).append(el("NextRecordType", page.get(max).type()));
    }
    return x.append(el("MaxItems", max)).append("</ListResourceRecordSetsResponse>").toString();
  }

  /** Route 53 orders names by their labels reversed (com.example.a), then by type. */
  private static String sortKey(String name, String type) {
    List<String> labels = new ArrayList<>(List.of(dotted(name).toLowerCase().split("\\.")));
    Collections.reverse(labels);
    return String.join(".", labels) + " " + type;
  }

  private static String dotted(String name) {
    return name.isEmpty() || name.endsWith(".") ? name : name + ".";
  }

  private static String text(Element parent, String name) {
    NodeList n = parent.getElementsByTagNameNS(R53_NS, name);
    if (n.getLength() == 0) {
      throw new Failure(400, "InvalidInput", "missing " + name);
    }
    return n.item(0).getTextContent();
  }
}
