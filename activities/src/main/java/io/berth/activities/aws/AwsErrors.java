package io.berth.activities.aws;

import io.temporal.failure.ApplicationFailure;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * AWS failures as Temporal sees them. Throttling, 5xx and I/O trouble are retryable
 * ({@value #RETRYABLE}): Temporal's activity backoff takes over after the SDK's own two attempts.
 * Validation errors and other 4xx are {@value #INVALID_INPUT}, which the workflows' retry
 * options list as do-not-retry. Callers that undo something pass a predicate for the errors that
 * mean "already done" (not found on delete/terminate), which then count as success.
 */
public final class AwsErrors {
  public static final String RETRYABLE = "AwsRetryable";
  public static final String INVALID_INPUT = "InvalidInput";

  private static final Set<String> THROTTLING = Set.of("Throttling", "ThrottlingException", "ThrottledException",
      "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
      "PriorRequestNotComplete", "SlowDown", "EC2ThrottledException");

  private AwsErrors() {}

  public static <T> T call(String what, Supplier<T> call) {
    return call(what, call, e -> false, null);
  }

  /** {@code done} errors are answered with {@code whenDone} instead of a failure. */
  public static <T> T call(String what, Supplier<T> call, Predicate<AwsServiceException> done, T whenDone) {
    try {
      return call.get();
    } catch (AwsServiceException e) {
      if (done.test(e)) {
        return whenDone;
      }
      throw toFailure(what, e);
    } catch (SdkException e) {
      throw toFailure(what, e);
    }
  }

  public static void run(String what, Runnable call) {
    run(what, call, e -> false);
  }

  public static void run(String what, Runnable call, Predicate<AwsServiceException> done) {
    call(what, () -> {
      call.run();
      return null;
    }, done, null);
  }

  /** Messages carry the operation, error code and HTTP status, never request parameters (they may hold user ids). */
  public static ApplicationFailure toFailure(String what, SdkException e) {
    if (e instanceof AwsServiceException s) {
      String msg = what + ": " + code(s) + " (HTTP " + s.statusCode() + "): " + s.awsErrorDetails().errorMessage();
      return retryable(s) ? ApplicationFailure.newFailure(msg, RETRYABLE)
          : ApplicationFailure.newNonRetryableFailure(msg, INVALID_INPUT);
    }
    // No answer from AWS: connection refused/reset, timeout, unreadable response.
    return ApplicationFailure.newFailure(what + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), RETRYABLE);
  }

  public static boolean retryable(AwsServiceException e) {
    return THROTTLING.contains(code(e)) || e.statusCode() == 429 || e.statusCode() >= 500 || e.isThrottlingException();
  }

  public static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "Unknown"
        : e.awsErrorDetails().errorCode();
  }

  /** EC2 no longer knows the instance, or the group has no such member. */
  public static boolean instanceGone(AwsServiceException e) {
    String code = code(e);
    String msg = message(e);
    // Not "AutoScalingGroup name not found": a wrong group name is a configuration error, not "done".
    return "InvalidInstanceID.NotFound".equals(code)
        || "ValidationError".equals(code) && (msg.startsWith("Instance Id not found") || msg.contains("is not part of Auto Scaling group"));
  }

  public static String message(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null ? ""
        : e.awsErrorDetails().errorMessage();
  }

  public static ApplicationFailure invalidInput(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, INVALID_INPUT);
  }
}
