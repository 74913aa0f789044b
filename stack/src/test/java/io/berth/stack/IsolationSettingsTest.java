package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.workflows.model.SlotStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Without a box, a template that runs user code starts only when the operator says every
 * workspace user is trusted (BERTH_TRUST_WORKSPACE_USERS=true), and then really runs unboxed.
 */
class IsolationSettingsTest {
  private static final Map<String, String> COMMAND = Map.of(
      "BERTH_TEMPLATE", "command",
      "BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --bind 127.0.0.1",
      "BERTH_WORKSPACE_AUTH", "none");

  private static String messages(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c.getMessage()).append(" | ");
    }
    return b.toString();
  }

  private static Map<String, String> with(Map<String, String> more) {
    Map<String, String> env = new java.util.HashMap<>(COMMAND);
    env.putAll(more);
    return env;
  }

  @Test
  void anUnboxedCommandTemplateIsRefusedUnlessWorkspaceUsersAreTrusted() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> StackFixture.start(with(Map.of("BERTH_ISOLATION", "off"))).close());
    String m = messages(e);
    assertTrue(m.contains("BERTH_TRUST_WORKSPACE_USERS=true") && m.contains("read Berth's secrets"), m);
  }

  @Test
  void badSettingsSayWhatIsWrong() {
    String bad = messages(assertThrows(RuntimeException.class,
        () -> StackFixture.start(with(Map.of("BERTH_ISOLATION", "sometimes"))).close()));
    assertTrue(bad.contains("BERTH_ISOLATION must be auto, box or off"), bad);
    String trust = messages(assertThrows(RuntimeException.class,
        () -> StackFixture.start(with(Map.of("BERTH_TRUST_WORKSPACE_USERS", "yes"))).close()));
    assertTrue(trust.contains("BERTH_TRUST_WORKSPACE_USERS must be true or false"), trust);
  }

  @Test
  void trustedUsersGetUnboxedSlots() throws Exception {
    try (StackFixture f = StackFixture.start(with(Map.of("BERTH_ISOLATION", "off",
        "BERTH_TRUST_WORKSPACE_USERS", "true")))) {
      f.awaitSpares(1);
      SlotStatus s = Await.value("a live slot", Duration.ofSeconds(30),
          () -> f.stack.worker().fleet().describe().hosts().stream().flatMap(h -> h.slots().stream())
              .filter(SlotStatus::alive).findFirst().orElse(null));
      long pid = Long.parseLong(f.stack.redis().hget(f.stack.keys().instance(s.slot().hostId()),
          "pid." + s.slot().index()));
      String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
      assertTrue(cmd.startsWith("python3 ") || cmd.contains("/python3 "), "no box around the process: " + cmd);
      assertEquals(uid("self"), uid(String.valueOf(pid)), "the slot runs as Berth's own user");
    }
  }

  private static String uid(String pid) throws Exception {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Uid:"))
        .findFirst().orElseThrow().split("\\s+")[1];
  }
}
