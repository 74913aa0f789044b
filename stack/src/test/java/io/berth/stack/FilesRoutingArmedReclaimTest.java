package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.WorkspaceView;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The armed reclaim with route files: at the deadline the Lua step decides and the file mode's
 * unroute (file removal, reload) runs on the worker before the workflow hears of it.
 */
class FilesRoutingArmedReclaimTest {
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of("BERTH_ROUTING", "files", "BERTH_IDLE_TIMEOUT", "PT3S",
        "BERTH_HEARTBEAT_WINDOW", "PT1S", "BERTH_SPARES", "1", "BERTH_MAX_HOSTS", "10"));
    f.awaitSpares(1);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void withoutActivityTheRouteFileGoesAtTheDeadline() throws Exception {
    f.ready("gus");
    long deadline = f.idleDeadline("gus");
    StackFixture.RouteGone gone = f.pollUntilGone("gus", deadline + 10_000);
    long goneSentAt = gone.goneSentAt();
    long goneSeenAt = gone.goneSeenAt();
    assertTrue(goneSeenAt > 0, "the route never stopped serving");
    assertTrue(goneSeenAt >= deadline, "gone " + (deadline - goneSeenAt) + " ms before the deadline");
    // A reload, and Nginx's old worker answering for a moment after it: a looser bound than a record.
    assertTrue(goneSentAt - deadline <= 2_000, "gone " + (goneSentAt - deadline) + " ms after the deadline");
    assertFalse(f.hasRoute("gus"), "route file removed");
    WorkspaceView end = f.awaitEnd("gus", Duration.ofSeconds(30));
    assertEquals("idle", end.reason());
    assertTrue(f.session("gus").isEmpty());
  }
}
