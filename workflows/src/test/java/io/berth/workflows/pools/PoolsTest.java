package io.berth.workflows.pools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.SpareSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The templates file and the environment that overrides it. */
class PoolsTest {
  private static final String TWO_TEMPLATES = """
      default: demo
      templates:
        demo:            {spares: 1, minHosts: 0, maxHosts: 4, slotsPerHost: 2}
        shell:
          kind: command
          command: "python3 -m http.server {port} --bind 127.0.0.1"
          spares: 2
          maxHosts: 6
          timeZone: Europe/Paris
          schedules:
            - {name: workday, cron: "* 8-17 * * 1-5", spares: 6}
            - {name: evening, cron: "* 18-21 * * 1-5", spares: 3}
          demand: {horizon: 5m, max: 20}
      """;

  @TempDir
  Path dir;

  private Map<String, String> file(String yaml, String... env) throws IOException {
    Path f = dir.resolve("templates.yaml");
    Files.writeString(f, yaml);
    Map<String, String> m = new HashMap<>();
    m.put(Pools.FILE, f.toString());
    for (int i = 0; i < env.length; i += 2) {
      m.put(env[i], env[i + 1]);
    }
    return m;
  }

  private String refused(Map<String, String> env) {
    return assertThrows(IllegalArgumentException.class, () -> Pools.fromEnv(env)).getMessage();
  }

  @Test
  void twoTemplatesEachWithItsPoolAndRules() throws IOException {
    Pools pools = Pools.fromEnv(file(TWO_TEMPLATES));
    assertEquals("demo", pools.defaultTemplate());
    assertEquals(List.of("demo", "shell"), pools.names());
    Pool demo = pools.get("demo");
    assertEquals("demo", demo.kind());
    assertEquals(List.of(1, 0, 4, 2), List.of(demo.spares(), demo.minHosts(), demo.maxHosts(), demo.slotsPerHost()));
    assertNull(demo.rules().demand());
    assertTrue(demo.rules().schedules().isEmpty());

    Pool shell = pools.get("shell");
    assertEquals("command", shell.kind());
    assertTrue(shell.command().contains("{port}"));
    assertEquals(2, shell.rules().base());
    assertEquals("Europe/Paris", shell.rules().timeZone());
    assertEquals(List.of(new SpareSchedule("workday", "* 8-17 * * 1-5", 6),
        new SpareSchedule("evening", "* 18-21 * * 1-5", 3)), shell.rules().schedules());
    assertEquals(new DemandRule(Duration.ofMinutes(5), 20), shell.rules().demand());
    assertEquals("capacity", pools.controllerId("demo"));
    assertEquals("capacity-shell", pools.controllerId("shell"));
  }

  @Test
  void theEnvironmentOverridesTheFile() throws IOException {
    Pools pools = Pools.fromEnv(file(TWO_TEMPLATES, "BERTH_SPARES", "3", "BERTH_POOL_SHELL_SPARES", "5",
        "BERTH_POOL_SHELL_MAX_HOSTS", "9", "BERTH_TEMPLATE", "shell"));
    assertEquals("shell", pools.defaultTemplate());
    assertEquals(5, pools.get("shell").spares(), "the pool's own variable beats BERTH_SPARES for the default");
    assertEquals(5, pools.get("shell").rules().base(), "the base follows the spares");
    assertEquals(9, pools.get("shell").maxHosts());
    assertEquals(1, pools.get("demo").spares(), "BERTH_SPARES is the default template's");
    assertEquals("capacity", pools.controllerId("shell"));
    assertEquals("capacity-demo", pools.controllerId("demo"));

    Pools byDefaultVar = Pools.fromEnv(file(TWO_TEMPLATES, "BERTH_SPARES", "3"));
    assertEquals(3, byDefaultVar.get("demo").spares());
    assertEquals(2, byDefaultVar.get("shell").spares());
  }

  @Test
  void overlappingSchedulesAreRefusedNamingBothAndTheHour() throws IOException {
    String message = refused(file("""
        templates:
          demo:
            timeZone: Europe/Paris
            schedules:
              - {name: workday, cron: "* 8-17 * * 1-5", spares: 6}
              - {name: late, cron: "* 17-21 * * 4-5", spares: 3}
        """));
    assertTrue(message.contains("'workday'") && message.contains("'late'"), message);
    assertTrue(message.contains("Thu 17:00"), message);
    assertTrue(message.contains("template 'demo'"), message);
  }

  @Test
  void anUnknownKindIsRefused() throws IOException {
    String message = refused(file("templates:\n  demo: {kind: vm}\n"));
    assertTrue(message.contains("kind") && message.contains("'vm'") && message.contains("'demo'"), message);
    String unnamed = refused(file("templates:\n  mine: {spares: 1}\n"));
    assertTrue(unnamed.contains("kind") && unnamed.contains("'mine'"), unnamed);
  }

  @Test
  void aCommandWithoutItsPortIsRefused() throws IOException {
    String message = refused(file("templates:\n  shell: {kind: command, command: \"python3 -m http.server\"}\n"));
    assertTrue(message.contains("'shell'") && message.contains("{port}"), message);
  }

  @Test
  void minHostsAboveMaxHostsIsRefused() throws IOException {
    String message = refused(file("templates:\n  demo: {minHosts: 5, maxHosts: 2}\n"));
    assertTrue(message.contains("minHosts 5 is above maxHosts 2"), message);
    String fromEnv = refused(file("templates:\n  demo: {maxHosts: 2}\n", "BERTH_MIN_HOSTS", "3"));
    assertTrue(fromEnv.contains("minHosts 3 is above maxHosts 2"), fromEnv);
  }

  @Test
  void aBadTimeZoneIsRefused() throws IOException {
    String message = refused(file("templates:\n  demo: {timeZone: Mars/Olympus}\n"));
    assertTrue(message.contains("timeZone 'Mars/Olympus'") && message.contains("'demo'"), message);
  }

  @Test
  void aBadCronNamesItsSchedule() throws IOException {
    String message = refused(file("templates:\n  demo:\n    schedules:\n      - {name: night, cron: \"0 1 * * *\","
        + " spares: 1}\n"));
    assertTrue(message.contains("schedule 'night'") && message.contains("must be *"), message);
  }

  @Test
  void aBadEnvironmentValueNamesTheSetting() throws IOException {
    String message = refused(file(TWO_TEMPLATES, "BERTH_POOL_SHELL_SPARES", "many"));
    assertTrue(message.contains("'shell'") && message.contains("spares (from the environment)"), message);
  }

  @Test
  void withoutAFileOnePoolFromTheEnvironmentAsBefore() {
    Pools pools = Pools.fromEnv(Map.of("BERTH_TEMPLATE", "code-server", "BERTH_SPARES", "4", "BERTH_MAX_HOSTS", "7",
        "BERTH_SLOTS_PER_HOST", "3"));
    assertEquals("code-server", pools.defaultTemplate());
    assertEquals(List.of("code-server"), pools.names());
    Pool p = pools.defaultPool();
    assertEquals(List.of(4, 0, 7, 3), List.of(p.spares(), p.minHosts(), p.maxHosts(), p.slotsPerHost()));
    assertEquals(4, p.rules().base());
    assertTrue(p.rules().schedules().isEmpty());
    assertNull(p.rules().demand());

    Pools plain = Pools.fromEnv(Map.of());
    assertEquals("demo", plain.defaultTemplate());
    assertEquals(1, plain.defaultPool().spares());
  }

  @Test
  void extraTemplateNamesGetAPoolWithoutSpares() {
    Pools pools = Pools.fromEnv(Map.of("BERTH_TEMPLATE", "demo", "BERTH_TEMPLATES", "chromium, code-server",
        "BERTH_POOL_CHROMIUM_SPARES", "2"));
    assertEquals(List.of("demo", "chromium", "code-server"), pools.names());
    assertEquals(0, pools.get("code-server").spares());
    assertEquals(2, pools.get("chromium").spares());
    assertEquals("chromium", pools.get("chromium").kind());
    assertEquals("capacity-code-server", pools.controllerId("code-server"));
  }

  @Test
  void aDefaultTheFileDoesNotOfferIsRefused() throws IOException {
    String message = refused(file(TWO_TEMPLATES, "BERTH_TEMPLATE", "chromium"));
    assertTrue(message.contains("BERTH_TEMPLATE 'chromium'") && message.contains("demo, shell"), message);
  }
}
