package io.berth.api.access;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.workspaces.WorkspaceSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wake's same-origin rule alone (WakeApiTest has the API's answers). */
class WakeRequestsTest {
  @Test
  void sameOriginIsTheWorkspacesOwnHost() {
    WorkspaceSettings settings = new WorkspaceSettings(Duration.ofMinutes(30), Duration.ofHours(12),
        Duration.ofMinutes(5), Duration.ofSeconds(10), "demo", null, "localhost", null, null, "10/min", "30/min",
        "60/min", null, null);
    WakeRequests r = new WakeRequests(null, new AccessCookies("none", null, null), settings);
    assertTrue(r.sameOrigin("ann-1", "http://ann-1.localhost:8088", "same-origin"));
    assertTrue(r.sameOrigin("ann-1", "https://ann-1.localhost", null));
    assertTrue(r.sameOrigin("ann-1", null, "same-origin"));
    assertFalse(r.sameOrigin("ann-1", null, null));
    assertFalse(r.sameOrigin("ann-1", "http://bob-2.localhost:8088", "same-site"));
    assertFalse(r.sameOrigin("ann-1", "http://ann-1.localhost.evil.example", null));
    assertFalse(r.sameOrigin("ann-1", "http://x.ann-1.localhost", null));
    assertFalse(r.sameOrigin("ann-1", "file://ann-1.localhost", null));
    assertFalse(r.sameOrigin("ann-1", "http://ann-1.localhost/path", null));
    assertFalse(r.sameOrigin("ann-1", "http://ann-1.localhost", "cross-site"));
  }
}
