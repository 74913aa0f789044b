package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BERTH_TEMPLATE=command from the environment: python's http.server per slot, probed at
 * BERTH_TEMPLATE_PROBE_PATH. The probe path names a file that does not exist until the test
 * writes it: the first host, which answers "/", is replaced for failing its probes, and a spare
 * joins the pool only once the file is there.
 */
class CommandTemplateEndToEndTest {
  static final String PROBE = "/ready-for-berth.txt";
  static StackFixture f;

  @BeforeAll
  static void start() {
    f = StackFixture.start(Map.of(
        "BERTH_TEMPLATE", "command",
        "BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --bind 127.0.0.1",
        "BERTH_TEMPLATE_PROBE_PATH", PROBE,
        "BERTH_WORKSPACE_AUTH", "none"));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** The file python serves from its working directory (the slot's), in every slot there is now. */
  private static void markSlotsReady() {
    try (Stream<Path> slots = Files.find(f.stateDir.resolve("fleet"), 2,
        (p, a) -> a.isDirectory() && p.getFileName().toString().startsWith("slot-"))) {
      for (Path slot : slots.toList()) {
        Files.writeString(slot.resolve(PROBE.substring(1)), "ok");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int status(Slot s, String path) {
    try {
      return GatewayClient.get("127.0.0.1", s.port(), "127.0.0.1", path, Duration.ofSeconds(2)).status();
    } catch (IOException e) {
      return 0;
    }
  }

  @Test
  void aPythonServerPerUserProbedAtTheConfiguredPath() {
    Slot first = Await.value("a launched slot", Duration.ofSeconds(60),
        () -> f.stack.worker().fleet().describe().hosts().stream().flatMap(h -> h.slots().stream())
            .filter(SlotStatus::alive).map(SlotStatus::slot).findFirst().orElse(null));
    Await.until("python serving / on " + first.slotId(), Duration.ofSeconds(60), () -> status(first, "/") == 200);
    // "/" answers, the probe path does not: the controller's probes fail until it replaces the host.
    Await.until(first.hostId() + " terminated for failing its probes", Duration.ofSeconds(60),
        () -> f.stack.worker().fleet().describe().hosts().stream().noneMatch(h -> h.hostId().equals(first.hostId())));
    assertEquals(0, f.spares(), "no spare while the probe path answers 404");
    Await.until("a spare once the probe path answers", Duration.ofSeconds(60), () -> {
      markSlotsReady();
      return f.spares() == 1;
    });

    f.ready("cmd-user");
    GatewayClient.Answer listing = f.viaGateway("cmd-user", "/");
    assertEquals(200, listing.status(), listing.body());
    assertTrue(listing.body().contains("Directory listing"), listing.body());
    assertEquals("ok", f.viaGateway("cmd-user", PROBE).body());
    assertEquals("command", f.session("cmd-user").get("template"));
  }
}
