package io.berth.activities.aws;

import io.berth.testkit.FakeAws;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Settings and clients pointed at a FakeAws, with dummy static credentials. */
public final class TestAws {
  public static final String GROUP = "berth-workspaces";
  public static final String ZONE = "Z0BERTHTEST";
  public static final String DOMAIN = "ws.example.com";

  private TestAws() {}

  public static AwsSettings settings(FakeAws fake) {
    return AwsSettings.of("us-east-1", GROUP, ZONE, DOMAIN, "demo").withEndpoint(fake.endpoint());
  }

  public static AwsClients clients(AwsSettings settings) {
    return AwsClients.create(settings,
        StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDBERTHTEST", "not-a-secret")));
  }

  public static ApplicationFailure fails(String type, boolean nonRetryable, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    assertEquals(nonRetryable, f.isNonRetryable(), f.getOriginalMessage());
    return f;
  }
}
