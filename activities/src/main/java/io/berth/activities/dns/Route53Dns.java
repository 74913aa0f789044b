package io.berth.activities.dns;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsErrors;
import io.berth.activities.aws.AwsSettings;
import io.berth.workflows.Labels;
import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.model.DnsRecord;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.route53.model.Change;
import software.amazon.awssdk.services.route53.model.ChangeAction;
import software.amazon.awssdk.services.route53.model.RRType;
import software.amazon.awssdk.services.route53.model.ResourceRecord;
import software.amazon.awssdk.services.route53.model.ResourceRecordSet;

/**
 * One A record per workspace in the configured hosted zone: {@code <label>.<domain>.} TTL
 * {@value #TTL} to the slot's address. In dnsMode {@code wildcard} a {@code *.<domain>} record
 * points at the gateway and both calls do nothing.
 */
public final class Route53Dns implements DnsActivities {
  public static final long TTL = 30;
  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  private final AwsSettings settings;
  private final Route53Client route53;

  public Route53Dns(AwsSettings settings, AwsClients clients) {
    this.settings = settings;
    this.route53 = clients.route53();
  }

  @Override
  public void upsertRecord(DnsRecord record) {
    if (!settings.recordMode()) {
      return;
    }
    String name = checkedName(record.hostname());
    if (record.address() == null || !IPV4.matcher(record.address()).matches()) {
      throw AwsErrors.invalidInput("DNS record address is not an IPv4 address");
    }
    change(ChangeAction.UPSERT, ResourceRecordSet.builder()
        .name(name)
        .type(RRType.A)
        .ttl(TTL)
        .resourceRecords(ResourceRecord.builder().value(record.address()).build())
        .build());
  }

  /**
   * DELETE must name the record exactly as it is, so it is read first. Deletes it only when it
   * still points at this record's address: a record that is absent, or that a later allocation
   * has repointed, is left alone.
   */
  @Override
  public void deleteRecord(DnsRecord record) {
    if (!settings.recordMode()) {
      return;
    }
    String name = checkedName(record.hostname());
    ResourceRecordSet current = AwsErrors.call("ListResourceRecordSets", () -> route53
        .listResourceRecordSets(b -> b
            .hostedZoneId(settings.hostedZoneId())
            .startRecordName(name)
            .startRecordType(RRType.A)
            .maxItems("1"))
        .resourceRecordSets().stream().findFirst().orElse(null));
    if (current == null || current.type() != RRType.A || !sameName(current.name(), name)
        || !pointsAt(current, record.address())) {
      return;
    }
    change(ChangeAction.DELETE, current);
  }

  private void change(ChangeAction action, ResourceRecordSet set) {
    // A DELETE that lost a race (already deleted, or changed since we read it) has nothing left to do.
    AwsErrors.run("ChangeResourceRecordSets", () -> route53.changeResourceRecordSets(b -> b
            .hostedZoneId(settings.hostedZoneId())
            .changeBatch(c -> c.changes(Change.builder().action(action).resourceRecordSet(set).build()))),
        e -> action == ChangeAction.DELETE && "InvalidChangeBatch".equals(AwsErrors.code(e))
            && (AwsErrors.message(e).contains("not found") || AwsErrors.message(e).contains("do not match")));
  }

  private static boolean pointsAt(ResourceRecordSet set, String address) {
    List<String> values = set.resourceRecords().stream().map(ResourceRecord::value).toList();
    return address == null || values.equals(List.of(address));
  }

  private static boolean sameName(String a, String b) {
    return dotted(a).equalsIgnoreCase(dotted(b));
  }

  /** {@code <label>[.<label>...].<domain>.}: every label a DNS label, inside the configured domain. */
  private String checkedName(String hostname) {
    String h = hostname == null ? "" : hostname.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
    String suffix = "." + settings.domain();
    if (!h.endsWith(suffix) || h.length() > 253) {
      throw AwsErrors.invalidInput("hostname is not inside " + settings.domain());
    }
    for (String label : h.substring(0, h.length() - suffix.length()).split("\\.", -1)) {
      if (!Labels.validLabel(label)) {
        throw AwsErrors.invalidInput("hostname has an invalid DNS label");
      }
    }
    return h + ".";
  }

  private static String dotted(String name) {
    return name.endsWith(".") ? name : name + ".";
  }
}
