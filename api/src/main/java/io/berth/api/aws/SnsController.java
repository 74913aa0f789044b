package io.berth.api.aws;

import io.berth.api.Temporal;
import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.CapacityWorkflow;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.json.JsonMapper;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.micronaut.serde.annotation.Serdeable;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Auto Scaling lifecycle news over SNS, so a new instance is onboarded at once instead of on the
 * controller's next pass (which still finds it without SNS). Anonymous: the message's own SNS
 * signature is the authentication, and only the configured topics are accepted. A subscription
 * confirmation is confirmed by a GET of its SubscribeURL; a launch or terminate notification
 * pokes the capacity workflow. Anything unverified is refused with 403 and changes nothing.
 */
@Controller("/api/aws/sns")
@Secured(SecurityRule.IS_ANONYMOUS)
public class SnsController {
  private static final Logger log = LoggerFactory.getLogger(SnsController.class);
  private static final int MAX_CONFIRM_BYTES = 64 * 1024;

  /** What was done with an accepted message: confirmed, poked, acknowledged or ignored. */
  @Serdeable
  public record Answer(String result, String detail) {}

  private final SnsSettings settings;
  private final SnsSignatures signatures;
  private final SnsLinks links;
  private final JsonMapper json;
  private final WorkflowClient client;

  public SnsController(SnsSettings settings, SnsSignatures signatures, SnsLinks links, JsonMapper json,
                       WorkflowClient client) {
    this.settings = settings;
    this.signatures = signatures;
    this.links = links;
    this.json = json;
    this.client = client;
  }

  @Post(consumes = {MediaType.TEXT_PLAIN, MediaType.APPLICATION_JSON})
  @ExecuteOn(TaskExecutors.BLOCKING)
  public Answer receive(@Body String body, @Header("x-amz-sns-message-type") @Nullable String typeHeader) {
    SnsMessage m = SnsMessage.of(parse(body));
    verify(m, typeHeader);
    return switch (m.type()) {
      case SnsMessage.SUBSCRIPTION_CONFIRMATION -> confirm(m);
      case SnsMessage.NOTIFICATION -> notification(m);
      default -> new Answer("acknowledged", m.type());
    };
  }

  private Map<String, Object> parse(String body) {
    try {
      Map<String, Object> map = body == null ? null : json.readValue(body, Argument.mapOf(String.class, Object.class));
      if (map == null) {
        throw ApiException.badRequest("an SNS message must be a JSON object");
      }
      return map;
    } catch (IOException | RuntimeException e) {
      if (e instanceof ApiException a) {
        throw a;
      }
      throw ApiException.badRequest("an SNS message must be a JSON object");
    }
  }

  private void verify(SnsMessage m, String typeHeader) {
    if (!m.knownType()) {
      throw forbidden("unknown SNS message type");
    }
    String missing = m.missing();
    if (missing != null) {
      throw forbidden("SNS message without " + missing);
    }
    if (typeHeader != null && !typeHeader.equals(m.type())) {
      throw forbidden("x-amz-sns-message-type does not match the signed Type");
    }
    if (!settings.topicArns().contains(m.get("TopicArn"))) {
      throw forbidden("topic not accepted here");
    }
    String problem = signatures.problem(m);
    if (problem != null) {
      log.warn("SNS message {} refused: {}", m.get("MessageId"), problem);
      throw forbidden(problem);
    }
  }

  private Answer confirm(SnsMessage m) {
    URI subscribe = links.allowed(m.get("SubscribeURL"));
    if (subscribe == null) {
      throw forbidden("SubscribeURL is not https on an allowed SNS host");
    }
    try {
      links.get(subscribe, MAX_CONFIRM_BYTES);
    } catch (IOException e) {
      // The URL carries the subscription token: not logged.
      log.warn("confirming the subscription to {} failed: {}", m.get("TopicArn"), e.toString());
      throw new ApiException(HttpStatus.BAD_GATEWAY, "upstream", "the subscription could not be confirmed", null);
    }
    log.info("confirmed the SNS subscription to {}", m.get("TopicArn"));
    return new Answer("confirmed", m.get("TopicArn"));
  }

  private Answer notification(SnsMessage m) {
    ScalingEvent event;
    try {
      event = ScalingEvent.of(json.readValue(m.get("Message"), Argument.mapOf(String.class, Object.class)));
    } catch (IOException | RuntimeException e) {
      event = null;
    }
    if (event == null) {
      return new Answer("ignored", "not an instance launch or terminate");
    }
    if (settings.autoScalingGroup() != null && !settings.autoScalingGroup().equals(event.group())) {
      return new Answer("ignored", "another Auto Scaling group");
    }
    try {
      client.newWorkflowStub(CapacityWorkflow.class, CapacityWorkflow.ID).poke(event.reason());
    } catch (RuntimeException e) {
      if (Temporal.notFound(e)) {
        return new Answer("ignored", "no capacity workflow is running");
      }
      throw WorkspaceWorkflows.translate(e, "poking the capacity workflow");
    }
    log.info("{} poked the capacity workflow", event.reason());
    return new Answer("poked", event.reason());
  }

  private static ApiException forbidden(String message) {
    return new ApiException(HttpStatus.FORBIDDEN, "forbidden", message, null);
  }
}
