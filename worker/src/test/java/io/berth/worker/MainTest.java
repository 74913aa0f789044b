package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The production worker connects to a Temporal cluster and never falls back to an in-memory one. */
class MainTest {
  @Test
  void noTemporalTargetIsRefused() {
    String why = Main.refusal(WorkerConfig.fromEnv(Map.of()));
    assertTrue(why != null && why.contains("BERTH_TEMPORAL_TARGET"), why);
    // No setting makes this worker start an in-memory Temporal.
    String stillWhy = Main.refusal(WorkerConfig.fromEnv(Map.of("BERTH_TEMPORAL_EMBEDDED", "true")));
    assertTrue(stillWhy != null && stillWhy.contains("BERTH_TEMPORAL_TARGET"), stillWhy);
  }

  @Test
  void aClusterTargetIsAccepted() {
    assertNull(Main.refusal(WorkerConfig.fromEnv(Map.of("BERTH_TEMPORAL_TARGET", "127.0.0.1:7233"))));
  }
}
