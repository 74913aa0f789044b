package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.fleet.Fleet;
import io.berth.testkit.Await;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.SlotStatus;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two templates from a templates file, each with its own pool, host group and controller: the
 * default {@code demo} (2 spares) and a {@code shell} command template (1 spare, one slot per host).
 */
class TemplatePoolsEndToEndTest {
  private static final Duration BOUND = Duration.ofSeconds(90);
  static StackFixture f;

  @BeforeAll
  static void start() throws IOException {
    Path file = Files.createTempFile("berth-templates", ".yaml");
    Files.writeString(file, """
        default: demo
        templates:
          demo: {spares: 2, maxHosts: 4, slotsPerHost: 1}
          shell:
            kind: command
            command: "python3 -m http.server {port} --bind 127.0.0.1"
            spares: 1
            maxHosts: 4
            slotsPerHost: 1
        """);
    f = StackFixture.start(Map.of(
        "BERTH_TEMPLATES_FILE", file.toString(),
        "BERTH_SPARES", "2", // the fixture's BERTH_SPARES would override the file's for the default template
        "BERTH_ALLOCATE_WAIT", "PT60S"));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static Fleet fleet() {
    return f.stack.worker().fleet();
  }

  private static Set<String> pool(String template) {
    return f.stack.redis().smembers(f.stack.keys().pool(template));
  }

  private static Set<String> hostIds(String template) {
    return fleet().describe(template).hosts().stream().map(Host::hostId).collect(Collectors.toSet());
  }

  private static HttpResponse<String> allocate(String user, String template) {
    return f.call("POST", "/api/workspaces", StackFixture.token(user), "{\"template\":\"" + template + "\"}");
  }

  @Test
  void eachTemplateKeepsItsOwnPoolAndABurstOnOneLeavesTheOthersSparesAlone() throws Exception {
    Await.until("2 demo spares and 1 shell spare", BOUND, () -> pool("demo").size() == 2 && pool("shell").size() == 1);
    List<Host> shellHosts = fleet().describe("shell").hosts();
    assertTrue(shellHosts.stream().allMatch(h -> h.slots().size() == 1
        && h.slots().stream().allMatch(s -> s.slot().template().equals("shell"))), "shell hosts: " + shellHosts);
    assertTrue(fleet().describe("demo").hosts().stream().flatMap(h -> h.slots().stream())
        .allMatch(s -> s.slot().template().equals("demo")), "a host runs one template's slots");
    Set<String> demoSpares = pool("demo");
    Set<String> demoHosts = hostIds("demo");

    // Three shell workspaces at once, one spare: two of them wait for new shell hosts.
    ExecutorService burst = Executors.newFixedThreadPool(3);
    List<Future<HttpResponse<String>>> calls = new ArrayList<>();
    for (String user : List.of("sh1", "sh2", "sh3")) {
      calls.add(burst.submit(() -> allocate(user, "shell")));
    }
    for (Future<HttpResponse<String>> c : calls) {
      HttpResponse<String> r = c.get();
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.body().contains("\"READY\""), r.body());
    }
    burst.shutdownNow();
    for (String user : List.of("sh1", "sh2", "sh3")) {
      Map<String, String> session = f.session(user);
      assertEquals("shell", session.get("template"));
      assertTrue(hostIds("shell").contains(session.get("hostId")), user + " on a shell host: " + session);
    }
    Await.until("the shell pool refilled", BOUND, () -> pool("shell").size() == 1);
    assertEquals(4, fleet().describe("shell").hosts().size(), "three owned shell hosts and a spare's");

    assertEquals(demoSpares, pool("demo"), "the demo spares were neither claimed nor replaced");
    assertEquals(demoHosts, hostIds("demo"), "no demo host launched or terminated for the shell burst");
    assertTrue(fleet().describe("demo").hosts().stream().flatMap(h -> h.slots().stream())
        .map(SlotStatus::owner).allMatch(o -> o == null));

    HttpResponse<String> nope = allocate("nobody", "nope");
    assertEquals(400, nope.statusCode(), nope.body());
    assertTrue(nope.body().contains("demo") && nope.body().contains("shell"), "names the offered templates: "
        + nope.body());
  }
}
