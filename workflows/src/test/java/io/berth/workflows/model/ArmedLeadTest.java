package io.berth.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ArmedLeadTest {
  private static Duration lead(Duration idle, Duration configured) {
    return new WorkspaceParams("u", "l", "h", "url", "demo", idle, Duration.ofHours(12), Duration.ofMinutes(5),
        Duration.ofSeconds(10), null, configured).armedLead();
  }

  @Test
  void defaultIsAThirdOfTheIdleTimeoutBetweenTwoAndThirtySeconds() {
    assertEquals(Duration.ofSeconds(30), lead(Duration.ofMinutes(30), null));
    assertEquals(Duration.ofSeconds(20), lead(Duration.ofSeconds(60), null));
    assertEquals(Duration.ofSeconds(2), lead(Duration.ofSeconds(5), Duration.ZERO), "at least 2 s when idle allows");
    assertEquals(Duration.ofMillis(1500), lead(Duration.ofSeconds(3), null), "never more than half the idle timeout");
  }

  @Test
  void aConfiguredLeadWinsButStaysUnderTheIdleTimeout() {
    assertEquals(Duration.ofSeconds(45), lead(Duration.ofMinutes(30), Duration.ofSeconds(45)));
    assertEquals(Duration.ofMillis(2_999), lead(Duration.ofSeconds(3), Duration.ofSeconds(10)));
  }
}
