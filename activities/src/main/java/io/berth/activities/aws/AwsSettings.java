package io.berth.activities.aws;

import java.net.URI;
import java.util.Set;

/**
 * Provider {@code aws}: the Auto Scaling group that holds the workspaces, the Route 53 zone of
 * {@code domain}, which instance address routes point at ({@code private} or {@code public}),
 * whether each workspace gets its own A record ({@code record}) or a {@code *.<domain>} record
 * points at the gateway ({@code wildcard}). {@code endpoint} (null: AWS) overrides the endpoint of
 * all three clients, for tests. Slot {@code i} of an instance listens on {@code templatePort + i};
 * the instance agent on {@code agentPort}.
 */
public record AwsSettings(String region, String autoScalingGroup, String hostedZoneId, String domain,
                          String addressKind, String dnsMode, URI endpoint, int templatePort, int slotsPerHost,
                          String template, int agentPort) {
  public static final int DEFAULT_TEMPLATE_PORT = 8080;
  public static final int DEFAULT_AGENT_PORT = 9100;

  public AwsSettings {
    require(region != null && !region.isBlank(), "region is required");
    require(autoScalingGroup != null && !autoScalingGroup.isBlank(), "autoScalingGroup is required");
    require(Set.of("private", "public").contains(addressKind), "addressKind must be private or public");
    require(Set.of("record", "wildcard").contains(dnsMode), "dnsMode must be record or wildcard");
    require(domain != null && !domain.isBlank(), "domain is required");
    require(!recordMode() || hostedZoneId != null && !hostedZoneId.isBlank(), "hostedZoneId is required for dnsMode record");
    require(slotsPerHost >= 1, "slotsPerHost must be at least 1");
    require(templatePort > 0 && templatePort + slotsPerHost - 1 <= 65535, "templatePort out of range");
    require(agentPort > 0 && agentPort <= 65535, "agentPort out of range");
    require(template != null && !template.isBlank(), "template is required");
    domain = domain.toLowerCase(java.util.Locale.ROOT).replaceAll("\\.$", "");
  }

  /** One slot per instance, template on 8080, agent on 9100, private addresses, one A record per workspace. */
  public static AwsSettings of(String region, String autoScalingGroup, String hostedZoneId, String domain,
                               String template) {
    return new AwsSettings(region, autoScalingGroup, hostedZoneId, domain, "private", "record", null,
        DEFAULT_TEMPLATE_PORT, 1, template, DEFAULT_AGENT_PORT);
  }

  public AwsSettings withEndpoint(URI endpoint) {
    return new AwsSettings(region, autoScalingGroup, hostedZoneId, domain, addressKind, dnsMode, endpoint,
        templatePort, slotsPerHost, template, agentPort);
  }

  public AwsSettings withDnsMode(String mode) {
    return new AwsSettings(region, autoScalingGroup, hostedZoneId, domain, addressKind, mode, endpoint,
        templatePort, slotsPerHost, template, agentPort);
  }

  public AwsSettings withSlots(int slots, int firstPort, int agent) {
    return new AwsSettings(region, autoScalingGroup, hostedZoneId, domain, addressKind, dnsMode, endpoint,
        firstPort, slots, template, agent);
  }

  public AwsSettings withAddressKind(String kind) {
    return new AwsSettings(region, autoScalingGroup, hostedZoneId, domain, kind, dnsMode, endpoint,
        templatePort, slotsPerHost, template, agentPort);
  }

  public boolean recordMode() {
    return "record".equals(dnsMode);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("aws settings: " + message);
    }
  }
}
