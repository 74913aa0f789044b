package io.berth.agent;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * The agent's two AWS calls, signed with the instance role's credentials (the SDK's default
 * chain reads them from the metadata service). The SDK retries throttling and 5xx a few times;
 * callers bound their own attempts on top.
 */
final class AwsCalls implements AutoCloseable {
  private final Ec2Client ec2;
  private final AutoScalingClient autoScaling;

  AwsCalls(String region, URI endpoint) {
    ec2 = configure(Ec2Client.builder(), region, endpoint).build();
    autoScaling = configure(AutoScalingClient.builder(), region, endpoint).build();
  }

  /**
   * Deletes the instance's tag only while it still has {@code value}: a newer {@code Recycle}
   * written meanwhile (the slot released again) stays, and the agent handles it next.
   */
  void deleteTag(String instanceId, String key, String value) {
    ec2.deleteTags(b -> b.resources(instanceId).tags(Tag.builder().key(key).value(value).build()));
  }

  /**
   * CONTINUE for the launch hook; false when Auto Scaling has no action waiting for this instance
   * (completed before an agent restart, or the hook's timeout passed).
   */
  boolean completeLaunch(String group, String hook, String instanceId) {
    try {
      autoScaling.completeLifecycleAction(b -> b.autoScalingGroupName(group).lifecycleHookName(hook)
          .instanceId(instanceId).lifecycleActionResult("CONTINUE"));
      return true;
    } catch (AwsServiceException e) {
      if (e.statusCode() == 400 && String.valueOf(e.awsErrorDetails().errorMessage()).contains("No active Lifecycle Action")) {
        return false;
      }
      throw e;
    }
  }

  private static <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(B builder, String region, URI endpoint) {
    builder.region(Region.of(region))
        .credentialsProvider(DefaultCredentialsProvider.builder().build())
        .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5))
            .socketTimeout(Duration.ofSeconds(20)))
        .overrideConfiguration(ClientOverrideConfiguration.builder().apiCallTimeout(Duration.ofSeconds(60)).build());
    if (endpoint != null) {
      builder.endpointOverride(endpoint);
    }
    return builder;
  }

  @Override
  public void close() {
    ec2.close();
    autoScaling.close();
  }
}
