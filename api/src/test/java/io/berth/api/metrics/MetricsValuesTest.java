package io.berth.api.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.health.NginxReport;
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The small decisions behind the series: path and outcome of an allocation, the scrape token, the public error. */
class MetricsValuesTest {
  private static WorkspaceView view(WorkspaceState state, long allocatedAt, String... steps) {
    List<ProgressStep> s = java.util.Arrays.stream(steps).map(n -> new ProgressStep(n, "done", 1, null)).toList();
    return new WorkspaceView("u", "w", state, "http://x/", null, null, "demo", 60, allocatedAt, 0, 0, null, s);
  }

  @Test
  void theColdPathIsTheOneThatAskedForCapacity() {
    assertEquals("warm", AllocationMetrics.path(view(WorkspaceState.READY, 1, "claim", "probe", "ready")));
    assertEquals("cold", AllocationMetrics.path(view(WorkspaceState.READY, 1, "claim", "capacity", "ready")));
  }

  @Test
  void aWorkspaceAllocatedBeforeTheCallIsExistingNotReady() {
    long start = 1_000_000;
    assertEquals("ready", AllocationMetrics.outcome(view(WorkspaceState.READY, start + 200), start));
    assertEquals("ready", AllocationMetrics.outcome(view(WorkspaceState.READY, start - 500), start), "clock skew");
    assertEquals("existing", AllocationMetrics.outcome(view(WorkspaceState.READY, start - 60_000), start));
    assertEquals("provisioning", AllocationMetrics.outcome(view(WorkspaceState.PROVISIONING, 0), start));
    assertEquals("provisioning", AllocationMetrics.outcome(view(WorkspaceState.ALLOCATING, 0), start));
    assertEquals("failed", AllocationMetrics.outcome(view(WorkspaceState.FAILED, 0), start));
  }

  @Test
  void theScrapeTokenIsLongOrAbsent() {
    assertNull(new MetricsSettings("  ", null).token());
    assertEquals(MetricsSettings.DEFAULT_REFRESH, new MetricsSettings(null, Duration.ZERO).refresh());
    assertThrows(IllegalStateException.class, () -> new MetricsSettings("short-token", null));
    MetricsSettings s = new MetricsSettings("a".repeat(32), null);
    assertTrue(s.tokenMatches("a".repeat(32)));
    assertFalse(s.tokenMatches("a".repeat(31)));
    assertFalse(s.tokenMatches(null));
    assertFalse(new MetricsSettings(null, null).tokenMatches(""));
  }

  @Test
  void thePublicErrorIsNginxsTellingLineWithoutPaths() {
    NginxReport r = NginxReport.parse(Map.of("ok", "true", "lastError",
        "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
            + "nginx: [emerg] host not found in upstream \"a:1\" in /var/lib/berth/nginx/routes/alice-1a2b.conf:4\n"
            + "nginx: configuration file /etc/nginx/nginx.conf test failed"));
    assertEquals("nginx: [emerg] host not found in upstream \"a:1\" in alice-1a2b.conf:4", r.publicLastError());
    assertEquals(203, NginxReport.parse(Map.of("lastError", "x".repeat(500))).publicLastError().length());
  }
}
