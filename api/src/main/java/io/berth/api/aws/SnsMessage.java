package io.berth.api.aws;

import java.util.List;
import java.util.Map;

/**
 * One SNS HTTP(S) delivery as posted: the JSON fields, and the string SNS signed. The fields and
 * their order are AWS's: Message, MessageId, Subject (when present), Timestamp, TopicArn, Type for
 * notifications; Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for
 * (un)subscribe confirmations.
 */
public record SnsMessage(Map<String, String> fields) {
  public static final String NOTIFICATION = "Notification";
  public static final String SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation";
  public static final String UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation";

  private static final List<String> NOTIFICATION_FIELDS =
      List.of("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type");
  private static final List<String> CONFIRMATION_FIELDS =
      List.of("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type");
  private static final List<String> SIGNATURE_FIELDS = List.of("Signature", "SignatureVersion", "SigningCertURL");

  /** String values only (SNS sends nothing else in the fields that matter); others are dropped. */
  public static SnsMessage of(Map<String, ?> json) {
    Map<String, String> f = new java.util.HashMap<>();
    json.forEach((k, v) -> {
      if (v instanceof String s) {
        f.put(k, s);
      }
    });
    return new SnsMessage(Map.copyOf(f));
  }

  public String type() {
    return fields.get("Type");
  }

  public String get(String name) {
    return fields.get(name);
  }

  public boolean knownType() {
    return NOTIFICATION.equals(type()) || SUBSCRIPTION_CONFIRMATION.equals(type())
        || UNSUBSCRIBE_CONFIRMATION.equals(type());
  }

  /** What is missing for this type to be verified and acted on, or null. */
  public String missing() {
    List<String> signed = signedFields();
    for (String name : signed) {
      if (!"Subject".equals(name) && fields.get(name) == null) {
        return name;
      }
    }
    return SIGNATURE_FIELDS.stream().filter(n -> fields.get(n) == null).findFirst().orElse(null);
  }

  /** "name\nvalue\n" for each signed field present, in AWS's order. */
  public String stringToSign() {
    StringBuilder s = new StringBuilder();
    for (String name : signedFields()) {
      String value = fields.get(name);
      if (value != null) {
        s.append(name).append('\n').append(value).append('\n');
      }
    }
    return s.toString();
  }

  private List<String> signedFields() {
    return NOTIFICATION.equals(type()) ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  }
}
