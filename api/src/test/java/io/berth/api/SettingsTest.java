package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.workspaces.AllocateRate;
import io.berth.api.workspaces.WorkspaceSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettingsTest {
  private static WorkspaceSettings settings(Duration idle, Duration window) {
    return new WorkspaceSettings(idle, Duration.ofHours(12), Duration.ofMinutes(5), Duration.ofSeconds(10), "demo",
        List.of("demo"), "localhost", "", window, "10/min", "30/min", "60/min", null, null);
  }

  @Test
  void heartbeatWindowIsATenthOfIdleCappedAt30s() {
    assertEquals(Duration.ofSeconds(30), settings(Duration.ofMinutes(30), Duration.ZERO).effectiveHeartbeatWindow());
    assertEquals(Duration.ofSeconds(12), settings(Duration.ofMinutes(2), Duration.ZERO).effectiveHeartbeatWindow());
    assertEquals(Duration.ofSeconds(5),
        settings(Duration.ofMinutes(30), Duration.ofSeconds(5)).effectiveHeartbeatWindow());
  }

  @Test
  void urlTemplateDefaultsToTheDomain() {
    assertEquals("http://a-1.localhost:8088/", settings(Duration.ofMinutes(1), Duration.ZERO).urlFor("a-1"));
  }

  @Test
  void rates() {
    assertEquals(new AllocateRate(10, Duration.ofMinutes(1)), AllocateRate.parse("10/min"));
    assertEquals(new AllocateRate(3, Duration.ofSeconds(1)), AllocateRate.parse("3/s"));
    assertEquals(new AllocateRate(100, Duration.ofHours(1)), AllocateRate.parse(" 100 / h "));
    assertEquals(new AllocateRate(5, Duration.ofMinutes(10)), AllocateRate.parse("5/10min"));
    assertEquals("5/10min", AllocateRate.parse("5/10min").describe());
    assertFalse(AllocateRate.parse("off").enabled());
    assertThrows(IllegalStateException.class, () -> AllocateRate.parse("lots"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new WorkspaceSettings(
        Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(1), "demo",
        List.of("demo"), "localhost", "", Duration.ZERO, "off", "often", "off", null, null));
    assertTrue(e.getMessage().startsWith("extend rate"), e.getMessage());
  }

  @Test
  void aConfiguredTemplateMustBeATemplateName() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new WorkspaceSettings(
        Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(1), "demo",
        List.of("demo", "../sh"), "localhost", "", Duration.ZERO, "off", "off", "off", null, null));
    assertTrue(e.getMessage().contains("'../sh' is not a template name"), e.getMessage());
  }

  @Test
  void defaultTemplateMustBeAllowed() {
    assertThrows(IllegalStateException.class, () -> new WorkspaceSettings(Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofMinutes(1), Duration.ofSeconds(1), "chromium", List.of("demo"), "localhost", "", Duration.ZERO,
        "off", "off", "off", null, null));
  }
}
