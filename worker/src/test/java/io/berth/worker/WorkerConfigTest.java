package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
  @Test
  void workflowCacheDefaultsToTheSdkDefault() {
    assertEquals(600, WorkerConfig.fromEnv(Map.of()).workflowCacheSize());
  }

  @Test
  void workflowCacheIsReadFromTheEnvironment() {
    assertEquals(2000, WorkerConfig.fromEnv(Map.of("BERTH_WORKFLOW_CACHE", "2000")).workflowCacheSize());
  }

  @Test
  void aWorkflowCacheBelowOneOrNotANumberIsRefusedWithItsName() {
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> WorkerConfig.fromEnv(Map.of("BERTH_WORKFLOW_CACHE", "0")));
    assertTrue(zero.getMessage().contains("BERTH_WORKFLOW_CACHE"), zero.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("BERTH_WORKFLOW_CACHE", "lots")));
  }
}
