package io.berth.activities.aws;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.route53.Route53Client;

/** The three SDK clients Berth uses, on the URL-connection HTTP client. */
public record AwsClients(Ec2Client ec2, AutoScalingClient autoScaling, Route53Client route53) implements AutoCloseable {
  /**
   * Two SDK attempts per call: one quick retry for a dropped connection, after that the failure
   * goes to Temporal, whose activity retry (with backoff, visible in history) governs.
   */
  public static final int SDK_ATTEMPTS = 2;

  /** Credentials from the default chain (env, profile, instance/task role). */
  public static AwsClients create(AwsSettings settings) {
    return create(settings, DefaultCredentialsProvider.builder().build());
  }

  public static AwsClients create(AwsSettings settings, AwsCredentialsProvider credentials) {
    Region region = Region.of(settings.region());
    return new AwsClients(
        configure(Ec2Client.builder(), settings, credentials, region).build(),
        configure(AutoScalingClient.builder(), settings, credentials, region).build(),
        // Route 53 is a global service: its endpoint and signing region are aws-global.
        configure(Route53Client.builder(), settings, credentials, Region.AWS_GLOBAL).build());
  }

  private static <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(
      B builder, AwsSettings settings, AwsCredentialsProvider credentials, Region region) {
    builder.region(region)
        .credentialsProvider(credentials)
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(5))
            .socketTimeout(Duration.ofSeconds(20)))
        .overrideConfiguration(ClientOverrideConfiguration.builder()
            .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(SDK_ATTEMPTS)
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(50), Duration.ofSeconds(1)))
                .throttlingBackoffStrategy(
                    BackoffStrategy.exponentialDelay(Duration.ofMillis(200), Duration.ofSeconds(2)))
                .build())
            .apiCallTimeout(Duration.ofSeconds(45))
            .build());
    if (settings.endpoint() != null) {
      builder.endpointOverride(settings.endpoint());
    }
    return builder;
  }

  @Override
  public void close() {
    ec2.close();
    autoScaling.close();
    route53.close();
  }
}
