package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigCacheTest {
  @Test
  void workflowThreadsFollowTheCacheButNeverDropBelowTheSdkDefault() {
    assertEquals(600, WorkerConfig.fromEnv(Map.of()).workflowCacheSize());
    assertEquals(600, WorkerConfig.fromEnv(Map.of()).maxWorkflowThreads());
    assertEquals(600, WorkerConfig.fromEnv(Map.of("BERTH_WORKFLOW_CACHE", "0")).maxWorkflowThreads());
    assertEquals(10_000, WorkerConfig.fromEnv(Map.of("BERTH_WORKFLOW_CACHE", "10000")).maxWorkflowThreads());
  }
}
