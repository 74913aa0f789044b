package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClockStartSettingTest {
  @Test
  void unsetMeansNowAndAnInstantIsItsMillis() {
    assertEquals(0, EmbeddedStack.clockStart(Map.of()));
    assertEquals(Instant.parse("2026-12-07T05:30:00Z").toEpochMilli(),
        EmbeddedStack.clockStart(Map.of(EmbeddedStack.CLOCK_START, "2026-12-07T05:30:00Z")));
  }

  @Test
  void aBadValueIsRefusedNamingTheSetting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EmbeddedStack.clockStart(Map.of(EmbeddedStack.CLOCK_START, "monday")));
    assertTrue(e.getMessage().contains(EmbeddedStack.CLOCK_START) && e.getMessage().contains("monday"), e.getMessage());
  }
}
