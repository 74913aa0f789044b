package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The production worker does not fall back to an in-memory Temporal unless asked. */
class MainTest {
  @Test
  void noTemporalTargetIsRefusedUnlessEmbeddedIsAskedFor() {
    Map<String, String> none = Map.of();
    String why = Main.refusal(WorkerConfig.fromEnv(none), none);
    assertTrue(why != null && why.contains("BERTH_TEMPORAL_TARGET"), why);
    Map<String, String> asked = Map.of("BERTH_TEMPORAL_EMBEDDED", "true");
    assertNull(Main.refusal(WorkerConfig.fromEnv(asked), asked));
    Map<String, String> cluster = Map.of("BERTH_TEMPORAL_TARGET", "127.0.0.1:7233");
    assertNull(Main.refusal(WorkerConfig.fromEnv(cluster), cluster));
  }
}
