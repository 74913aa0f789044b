package io.berth.api.aws;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * An Auto Scaling message inside an SNS notification: a group notification ({@code Event}:
 * {@code autoscaling:EC2_INSTANCE_LAUNCH} / {@code ..._TERMINATE}) or a lifecycle hook
 * ({@code LifecycleTransition}: {@code autoscaling:EC2_INSTANCE_LAUNCHING} / {@code ..._TERMINATING}).
 *
 * @param kind {@code launch} or {@code terminate}
 */
public record ScalingEvent(String kind, String instanceId, String group) {
  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");
  private static final Map<String, String> KINDS = Map.of(
      "autoscaling:EC2_INSTANCE_LAUNCH", "launch",
      "autoscaling:EC2_INSTANCE_LAUNCHING", "launch",
      "autoscaling:EC2_INSTANCE_TERMINATE", "terminate",
      "autoscaling:EC2_INSTANCE_TERMINATING", "terminate");

  /** The event, or null for anything else (test notifications, errors, other services). */
  public static ScalingEvent of(Map<String, ?> message) {
    Object what = message.get("LifecycleTransition") != null ? message.get("LifecycleTransition") : message.get("Event");
    String kind = what instanceof String s ? KINDS.get(s) : null;
    Object id = message.get("EC2InstanceId");
    Object group = message.get("AutoScalingGroupName");
    // The id reaches workflow history and logs: only a well-formed one.
    if (kind == null || !(id instanceof String i) || !INSTANCE_ID.matcher(i).matches()) {
      return null;
    }
    return new ScalingEvent(kind, i, group instanceof String g ? g : null);
  }

  /** The capacity workflow's poke reason. */
  public String reason() {
    return "sns: " + kind + " " + instanceId;
  }
}
