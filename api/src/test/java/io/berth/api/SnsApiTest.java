package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.testkit.Await;
import io.berth.workflows.CapacityWorkflow;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.temporal.api.enums.v1.EventType;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/aws/sns} against real signatures: keys and certificates made with keytool, the
 * signing certificate and subscribe URLs served over loopback HTTPS. Pokes are read back from the
 * capacity workflow's history, so "nothing changed" is checked where the change would land.
 */
@MicronautTest
class SnsApiTest extends ApiTestBase {
  static final String TOPIC = "arn:aws:sns:us-east-1:123456789012:berth-lifecycle";
  static final String GROUP = "berth-workspaces";
  static final SnsAuthority sns = SnsAuthority.start();
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.sns.topic-arns", TOPIC);
    p.put("berth.sns.host-pattern", "^127\\.0\\.0\\.1$");
    p.put("berth.sns.trust-certs", sns.trustPem().toString());
    p.put("berth.sns.auto-scaling-group", GROUP);
    return p;
  }

  @AfterAll
  void stopAuthority() {
    sns.close();
  }

  // ---- accepted ------------------------------------------------------------------------------

  @Test
  void aSignedLaunchNotificationPokesTheCapacityWorkflowWithEitherSignatureVersion() {
    for (String version : new String[] {"1", "2"}) {
      String id = instanceId();
      Http.Answer a = post(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)), version));
      assertEquals(200, a.status(), a.body());
      assertEquals("poked", a.json().path("result").asText());
      awaitPoke("sns: launch " + id);
    }
  }

  @Test
  void aLifecycleHookTerminationPokesToo() {
    String id = instanceId();
    Map<String, String> hook = new LinkedHashMap<>();
    hook.put("LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING");
    hook.put("EC2InstanceId", id);
    hook.put("AutoScalingGroupName", GROUP);
    hook.put("LifecycleHookName", "berth-terminate");
    hook.put("LifecycleActionToken", UUID.randomUUID().toString());
    Http.Answer a = post(sns.signed(notification(SnsAuthority.json(hook)), "2"));
    assertEquals(200, a.status(), a.body());
    awaitPoke("sns: terminate " + id);
  }

  @Test
  void aSignedSubscriptionConfirmationIsConfirmedByGettingItsSubscribeUrl() {
    String token = UUID.randomUUID().toString().replace("-", "");
    long before = sns.hits("/confirm?");
    Http.Answer a = post(sns.signed(confirmation(sns.base() + "/confirm?Action=ConfirmSubscription&Token=" + token), "2"));
    assertEquals(200, a.status(), a.body());
    assertEquals("confirmed", a.json().path("result").asText());
    assertEquals(before + 1, sns.hits("/confirm?"));
    assertTrue(sns.hits().contains("/confirm?Action=ConfirmSubscription&Token=" + token), sns.hits().toString());
  }

  @Test
  void notificationsThatAreNotOursOrNotLaunchesAreAcknowledgedWithoutAPoke() {
    String id = instanceId();
    Http.Answer other = post(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, "other")), "2"));
    assertEquals(200, other.status(), other.body());
    assertEquals("ignored", other.json().path("result").asText());
    Http.Answer test = post(sns.signed(notification(groupEvent("autoscaling:TEST_NOTIFICATION", id, GROUP)), "2"));
    assertEquals("ignored", test.json().path("result").asText());
    assertEquals(0, settledPokes(id));
  }

  // ---- refused: 403, nothing poked, nothing confirmed -------------------------------------------

  @Test
  void aTamperedMessageIsRefused() {
    String id = instanceId();
    Map<String, String> m = sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", instanceId(), GROUP)),
        "2");
    m.put("Message", groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP));
    refused(post(m));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void anUnsignedMessageIsRefused() {
    String id = instanceId();
    Map<String, String> m = sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)), "2");
    m.remove("Signature");
    refused(post(m));
    m.put("Signature", "");
    refused(post(m));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void aMessageSignedWithAnotherKeyIsRefused() {
    String id = instanceId();
    refused(post(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)), "2",
        sns.otherKey, sns.certUrl())));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void aCertificateOffTheAllowedHostsOrNotHttpsIsNeverFetched() {
    String id = instanceId();
    long fetches = sns.hits("/");
    String port = sns.base().replaceAll(".*:", "");
    for (String url : new String[] {"https://sns.evil.example/SimpleNotificationService-x.pem",
        "http://127.0.0.1:" + port + "/SimpleNotificationService-test.pem",
        "https://user@127.0.0.1:" + port + "/SimpleNotificationService-test.pem",
        "https://localhost:" + port + "/SimpleNotificationService-test.pem"}) {
      refused(post(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)), "2",
          sns.signingKey, url)));
    }
    assertEquals(fetches, sns.hits("/"), sns.hits().toString());
    assertEquals(0, settledPokes(id));
  }

  @Test
  void anUnknownSignatureVersionIsRefused() {
    String id = instanceId();
    Map<String, String> m = sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)), "2");
    m.put("SignatureVersion", "3");
    refused(post(m));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void anotherTopicIsRefusedEvenWhenSnsSignedIt() {
    String id = instanceId();
    Map<String, String> m = notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP));
    m.put("TopicArn", "arn:aws:sns:us-east-1:999999999999:someone-elses");
    refused(post(sns.signed(m, "2")));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void aSignedConfirmationWhoseSubscribeUrlIsElsewhereIsNotFollowed() {
    long before = sns.hits("/confirm");
    refused(post(sns.signed(confirmation("https://sns.evil.example/confirm?Token=x"), "2")));
    refused(post(sns.signed(confirmation("http://127.0.0.1:1/confirm?Token=x"), "2")));
    Map<String, String> tampered = sns.signed(confirmation(sns.base() + "/confirm?Token=a"), "2");
    tampered.put("SubscribeURL", sns.base() + "/confirm?Token=b");
    refused(post(tampered));
    assertEquals(before, sns.hits("/confirm"));
  }

  @Test
  void aTypeHeaderThatDisagreesWithTheSignedTypeIsRefused() throws Exception {
    String id = instanceId();
    String body = SnsAuthority.json(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", id, GROUP)),
        "2"));
    refused(send(body, "SubscriptionConfirmation"));
    assertEquals(0, settledPokes(id));
  }

  @Test
  void notJsonIsABadRequest() throws Exception {
    Http.Answer a = send("not json", null);
    assertEquals(400, a.status(), a.body());
    assertEquals("bad_request", a.json().path("error").asText());
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static String instanceId() {
    return String.format("i-%017x", ThreadLocalRandom.current().nextLong() >>> 4);
  }

  static String groupEvent(String event, String instanceId, String group) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Origin", "EC2");
    m.put("Destination", "AutoScalingGroup");
    m.put("Event", event);
    m.put("AccountId", "123456789012");
    m.put("AutoScalingGroupName", group);
    m.put("EC2InstanceId", instanceId);
    m.put("Description", "Launching a new EC2 instance: " + instanceId);
    return SnsAuthority.json(m);
  }

  static Map<String, String> notification(String message) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Type", "Notification");
    m.put("MessageId", UUID.randomUUID().toString());
    m.put("TopicArn", TOPIC);
    m.put("Subject", "Auto Scaling: launch for group \"" + GROUP + "\"");
    m.put("Message", message);
    m.put("Timestamp", Instant.now().toString());
    m.put("UnsubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + TOPIC + ":x");
    return m;
  }

  static Map<String, String> confirmation(String subscribeUrl) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Type", "SubscriptionConfirmation");
    m.put("MessageId", UUID.randomUUID().toString());
    m.put("Token", "2336412f37fb687f5d51e6e2425c464de12884e6");
    m.put("TopicArn", TOPIC);
    m.put("Message", "You have chosen to subscribe to the topic " + TOPIC + ".");
    m.put("SubscribeURL", subscribeUrl);
    m.put("Timestamp", Instant.now().toString());
    return m;
  }

  /** As SNS posts: text/plain JSON with the type header. */
  Http.Answer post(Map<String, String> message) {
    try {
      return send(SnsAuthority.json(message), message.get("Type"));
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  Http.Answer send(String body, String typeHeader) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.getURI().resolve("/api/aws/sns"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "text/plain; charset=UTF-8")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (typeHeader != null) {
      b.header("x-amz-sns-message-type", typeHeader);
    }
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Http.Answer(r.statusCode(), r);
  }

  static void refused(Http.Answer a) {
    assertEquals(403, a.status(), a.body());
    JsonNode json = a.json();
    assertEquals("forbidden", json.path("error").asText(), a.body());
    assertTrue(a.header("Content-Type").orElse("").startsWith("application/json"), a.header("Content-Type").toString());
  }

  /** A signal that arrives while a workflow task runs is buffered: it reaches history when the task completes. */
  void awaitPoke(String reason) {
    Await.until("poke '" + reason + "' in the capacity workflow's history", Duration.ofSeconds(20),
        () -> pokes(reason) == 1);
  }

  /**
   * Pokes containing {@code text} once every earlier signal is in history: a valid marker
   * notification is sent and awaited, and signals keep their order.
   */
  long settledPokes(String text) {
    String marker = instanceId();
    Http.Answer a = post(sns.signed(notification(groupEvent("autoscaling:EC2_INSTANCE_LAUNCH", marker, GROUP)), "2"));
    assertEquals(200, a.status(), a.body());
    awaitPoke("sns: launch " + marker);
    return pokes(text);
  }

  /** poke signals on the capacity workflow whose reason contains {@code text}. */
  long pokes(String text) {
    return stack.client.fetchHistory(CapacityWorkflow.ID).getEvents().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        .map(e -> e.getWorkflowExecutionSignaledEventAttributes())
        .filter(s -> s.getSignalName().equals("poke"))
        .filter(s -> s.getInput().getPayloadsList().stream().anyMatch(p -> p.getData().toStringUtf8().contains(text)))
        .count();
  }
}
