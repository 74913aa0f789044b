package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.pools.Pool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigPoolsTest {
  @TempDir
  Path dir;

  private Path templatesFile() throws IOException {
    return Files.writeString(dir.resolve("templates.yaml"), """
        default: demo
        templates:
          demo: {spares: 2, minHosts: 1, maxHosts: 4, slotsPerHost: 2}
          shell:
            kind: command
            command: "python3 -m http.server {port} --bind 127.0.0.1"
            spares: 1
            maxHosts: 3
        """);
  }

  @Test
  void withoutATemplatesFileTheDefaultTemplatesSettingsAreTheEnvironmentsAsBefore() {
    WorkerConfig c = WorkerConfig.fromEnv(Map.of("BERTH_SPARES", "3", "BERTH_MAX_HOSTS", "7",
        "BERTH_SLOTS_PER_HOST", "2"));
    assertEquals("demo", c.template());
    assertEquals(List.of(3, 0, 7, 2), List.of(c.spares(), c.minHosts(), c.maxHosts(), c.slotsPerHost()));
    assertEquals(List.of("demo"), c.pools().names());
  }

  @Test
  void theTemplatesFileGivesEachTemplateItsPoolAndTheDefaultsSettings() throws IOException {
    WorkerConfig c = WorkerConfig.fromEnv(Map.of("BERTH_TEMPLATES_FILE", templatesFile().toString(),
        "BERTH_POOL_SHELL_SPARES", "4"));
    assertEquals("demo", c.template());
    assertEquals(List.of(2, 1, 4, 2), List.of(c.spares(), c.minHosts(), c.maxHosts(), c.slotsPerHost()));
    assertEquals(List.of("demo", "shell"), c.pools().names());

    Pool shell = c.pools().get("shell");
    CapacityParams p = BerthWorker.capacityParams(c, shell);
    assertEquals("shell", p.template());
    assertEquals(List.of(4, 0, 3, 1), List.of(p.spares(), p.minHosts(), p.maxHosts(), p.slotsPerHost()));
    assertEquals(4, p.spareRules().base());
    assertEquals("capacity-shell", c.pools().controllerId("shell"));
    assertEquals("capacity", c.pools().controllerId("demo"));
  }

  @Test
  void onAwsEachTemplateNamesItsOwnAutoScalingGroup() throws IOException {
    String file = templatesFile().toString();
    WorkerConfig c = WorkerConfig.fromEnv(Map.of("BERTH_PROVIDER", "aws", "BERTH_TEMPLATES_FILE", file,
        "BERTH_AWS_ASG", "berth-demo", "BERTH_POOL_SHELL_ASG", "berth-shell"));
    assertEquals(Map.of("demo", "berth-demo", "shell", "berth-shell"), c.aws().groups());

    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(
        Map.of("BERTH_PROVIDER", "aws", "BERTH_TEMPLATES_FILE", file, "BERTH_AWS_ASG", "berth-demo")));
    assertTrue(missing.getMessage().contains("'shell'") && missing.getMessage().contains("BERTH_POOL_SHELL_ASG"),
        missing.getMessage());
    IllegalArgumentException shared = assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(
        Map.of("BERTH_PROVIDER", "aws", "BERTH_TEMPLATES_FILE", file, "BERTH_AWS_ASG", "berth-one",
            "BERTH_POOL_SHELL_ASG", "berth-one")));
    assertTrue(shared.getMessage().contains("BERTH_POOL_SHELL_ASG") && shared.getMessage().contains("berth-one"),
        shared.getMessage());
    assertEquals(Map.of("demo", "berth-workspaces"), WorkerConfig.fromEnv(Map.of("BERTH_PROVIDER", "aws",
        "BERTH_AWS_ASG", "berth-workspaces")).aws().groups(), "one template keeps BERTH_AWS_ASG");
  }

  @Test
  void aBadTemplatesFileStopsTheWorkerNamingTheSetting() throws IOException {
    Path bad = Files.writeString(dir.resolve("bad.yaml"), "templates:\n  shell: {kind: command, spares: 1}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkerConfig.fromEnv(Map.of("BERTH_TEMPLATES_FILE", bad.toString())));
    assertTrue(e.getMessage().contains("'shell'") && e.getMessage().contains("command"), e.getMessage());
  }
}
