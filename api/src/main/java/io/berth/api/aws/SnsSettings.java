package io.berth.api.aws;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.annotation.Nullable;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code berth.sns.*}: who may talk to {@code POST /api/aws/sns}.
 *
 * @param hostPattern       hosts the signing certificate and the subscribe URL may live on (https only);
 *                          blank means {@value #DEFAULT_HOST_PATTERN}
 * @param topicArns         the only topics whose messages are accepted; none means every message is refused.
 *                          A valid SNS signature only proves the message came from SNS, not from our topic.
 * @param autoScalingGroup  when set, lifecycle messages about other groups are ignored
 * @param trustCerts        a PEM file of CA certificates to trust for those HTTPS calls instead of the
 *                          JDK's (private endpoints, tests); blank means the JDK's trust store
 */
@ConfigurationProperties("berth.sns")
public record SnsSettings(@Nullable String hostPattern, @Nullable List<String> topicArns,
                          @Nullable String autoScalingGroup, @Nullable String trustCerts) {
  public static final String DEFAULT_HOST_PATTERN = "^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$";

  public SnsSettings {
    hostPattern = hostPattern == null || hostPattern.isBlank() ? DEFAULT_HOST_PATTERN : hostPattern.trim();
    try {
      Pattern.compile(hostPattern);
    } catch (PatternSyntaxException e) {
      throw new IllegalStateException("berth.sns.host-pattern is not a regular expression: " + e.getDescription());
    }
    topicArns = topicArns == null ? List.of()
        : topicArns.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    autoScalingGroup = autoScalingGroup == null || autoScalingGroup.isBlank() ? null : autoScalingGroup.trim();
    trustCerts = trustCerts == null || trustCerts.isBlank() ? null : trustCerts.trim();
  }

  public Pattern hosts() {
    return Pattern.compile(hostPattern);
  }
}
