package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How long an owner waits on the wake page: from the page's request to the first byte of the new
 * workspace (the whole visit of {@link WakeVisit}, at the page's own polling pace), warm (a spare
 * in the pool) and cold (the fleet scaled to zero: a host and its slot start). Prints p50 / p95
 * / max; the counts are {@code -Dwake.warm=N -Dwake.cold=N}.
 */
class WakeTimingTest {
  static final int WARM = Integer.getInteger("wake.warm", 10);
  static final int COLD = Integer.getInteger("wake.cold", 4);

  @Test
  void warmAndColdWakeTimes() throws InterruptedException {
    List<Long> warm = new ArrayList<>();
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "1"))) {
      for (int i = 0; i < WARM; i++) {
        String user = "warm" + i;
        String cookie = releasedWithCookie(f, user);
        f.awaitSpares(1);
        WakeVisit.Timing t = new WakeVisit(f).visit(user, cookie);
        assertTrue(t.page().contains("Workspace of " + user), t.page());
        assertTrue(!t.wakeBody().contains("\"capacity\""), "a warm spare: " + t.wakeBody());
        warm.add(t.toFirstByteMillis());
        release(f, user);
      }
    }
    System.out.println("wake on visit, warm: " + figures(warm));
    List<Long> cold = new ArrayList<>();
    try (StackFixture f = StackFixture.start(Map.of("BERTH_SPARES", "0", "BERTH_MIN_HOSTS", "0",
        "BERTH_ALLOCATE_WAIT", "PT60S"))) {
      for (int i = 0; i < COLD; i++) {
        String user = "cold" + i;
        String cookie = releasedWithCookie(f, user);
        Await.until("the fleet drained to zero", Duration.ofSeconds(90),
            () -> f.stack.worker().fleet().describe().hosts().isEmpty());
        WakeVisit.Timing t = new WakeVisit(f).visit(user, cookie);
        assertTrue(t.wakeBody().contains("\"capacity\""), "went through the cold path: " + t.wakeBody());
        cold.add(t.toFirstByteMillis());
        release(f, user); // the woken workspace too: the next visit finds the fleet at zero again
      }
    }
    System.out.println("wake on visit, page request to the workspace's first byte: warm " + figures(warm)
        + "; cold " + figures(cold));
  }

  /** The user's workspace, opened once (the owner's cookie), then released and gone. */
  private static String releasedWithCookie(StackFixture f, String user) {
    f.ready(user);
    String cookie = f.launch(user);
    release(f, user);
    return cookie;
  }

  private static void release(StackFixture f, String user) {
    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token(user), null).statusCode());
    f.awaitEnd(user, Duration.ofSeconds(60));
    Await.until(user + "'s route gone", Duration.ofSeconds(30), () -> !f.hasRoute(user));
  }

  static String figures(List<Long> millis) {
    List<Long> s = millis.stream().sorted().toList();
    return "n=" + s.size() + " p50=" + at(s, 0.50) + " ms p95=" + at(s, 0.95) + " ms max=" + s.get(s.size() - 1)
        + " ms " + s;
  }

  /** Nearest rank. */
  private static long at(List<Long> sorted, double q) {
    return sorted.get(Math.max(0, (int) Math.ceil(q * sorted.size()) - 1));
  }
}
