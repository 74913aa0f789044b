package io.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The instance recipe in deploy/aws: install.sh renders for each template (into a directory,
 * installing nothing), the units start the commands the worker and the agent expect (ports,
 * users, homes, unit names), {@code systemd-analyze verify} accepts them and {@code shellcheck}
 * the scripts (both Debian packages; skipped when missing).
 */
class RecipeTest {
  static final Path DEPLOY = Path.of(System.getProperty("user.dir")).getParent().resolve("deploy/aws");
  static final Pattern VAR = Pattern.compile("\\$\\{?([A-Z_]+)}?");

  @TempDir Path root;

  @ParameterizedTest
  @ValueSource(strings = {"code-server", "chromium", "command"})
  void rendersTheUnitsAndSettingsEachTemplateNeeds(String template) throws Exception {
    render(template, 2);
    Path units = root.resolve("etc/systemd/system");
    Path unit = units.resolve("berth-" + template + "@.service");
    assertTrue(Files.exists(units.resolve("berth-agent.service")));
    assertTrue(Files.exists(unit));
    try (var all = Files.list(units)) {
      assertEquals(2, all.count(), "the agent's unit and this template's only");
    }
    Map<String, String> agentEnv = envFile(root.resolve("etc/berth/agent.env"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("etc/berth/agent.env"))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("home/berth1"))));

    // The agent, reading the file the recipe wrote, controls the unit the recipe installed.
    AgentConfig agent = AgentConfig.fromEnv(agentEnv);
    assertEquals(template, agent.template());
    assertEquals(2, agent.slots());
    assertEquals(9100, agent.listenPort());
    assertEquals(List.of("systemctl", "start", unit.getFileName().toString().replace("@", "@1")),
        agent.startCommand().stream().map(w -> w.replace("{slot}", "1")).toList());
    assertEquals(Path.of("/home/berth1"), agent.home(1));

    // Slot 1's unit starts the template on the slot's port, as user berth1 in /home/berth1.
    Map<String, String> slotEnv = envFile(root.resolve("etc/berth/slot-1.env"));
    assertEquals(String.valueOf(agent.port(1)), slotEnv.get("BERTH_PORT"));
    Map<String, String> service = section(unit);
    assertEquals("berth1", instance(service.get("User")));
    assertEquals("/home/berth1", instance(service.get("WorkingDirectory")));
    assertEquals("169.254.169.254/32", service.get("IPAddressDeny"), "no metadata service for the workspace");
    assertEquals(expectedCommand(template), expand(instance(service.get("ExecStart")), slotEnv));
    // At boot the template waits for the file the agent writes once it serves.
    assertTrue(service.get("ExecStartPre").contains("[ ! -e " + agent.stateDir().resolve("ready") + " ]"), service.get("ExecStartPre"));
    assertTrue(service.get("After").contains("berth-agent.service"));
  }

  @Test
  void refusesACommandTemplateWithoutItsCommand() throws Exception {
    Process p = install("command", 1, Map.of("BERTH_TEMPLATE_COMMAND", "python3 -m http.server"));
    assertEquals(1, p.exitValue());
    assertTrue(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).contains("must contain {port}"));
  }

  @Test
  void scriptsPassShellcheck() throws Exception {
    assumeTrue(onPath("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");
    Process p = new ProcessBuilder("shellcheck", "-s", "sh", "install.sh", "user-data.sh", "package.sh")
        .directory(DEPLOY.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"berth-agent.service", "berth-code-server@.service", "berth-chromium@.service", "berth-command@.service"})
  void unitsPassSystemdAnalyzeVerify(String name) throws Exception {
    assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed");
    String text = Files.readString(DEPLOY.resolve("systemd").resolve(name));
    // The template's program may not be on this machine: verify checks it exists, so a stub stands in.
    String exec = section(DEPLOY.resolve("systemd").resolve(name)).get("ExecStart").split(" ")[0];
    if (!Files.isExecutable(Path.of(exec))) {
      Path stub = Files.writeString(root.resolve("stub"), "#!/bin/sh\n");
      stub.toFile().setExecutable(true);
      text = text.replace("ExecStart=" + exec + " ", "ExecStart=" + stub + " ");
    }
    Path unit = Files.writeString(root.resolve(name.replace("@", "@0")), text);
    Process p = new ProcessBuilder("systemd-analyze", "verify", "--man=no", "--generators=no", unit.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertEquals("", out.strip(), "no warnings");
  }

  private static String expectedCommand(String template) {
    return switch (template) {
      case "code-server" -> "/usr/bin/code-server --bind-addr 0.0.0.0:8081 --auth none --disable-telemetry"
          + " --disable-update-check /home/berth1";
      case "chromium" -> "/usr/bin/chromium --headless=new --no-sandbox --disable-gpu --disable-background-networking"
          + " --disable-component-update --disable-sync --no-first-run --no-default-browser-check"
          + " --remote-debugging-address=0.0.0.0 --remote-debugging-port=8081 --user-data-dir=/home/berth1/profile";
      default -> "/usr/bin/env python3 -m http.server 8081 --directory /home/berth1";
    };
  }

  private void render(String template, int slots) throws Exception {
    Process p = install(template, slots, Map.of("BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --directory {slotDir}"));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
  }

  private Process install(String template, int slots, Map<String, String> extra) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", DEPLOY.resolve("install.sh").toString()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("BERTH_INSTALL_ROOT", root.toString());
    env.put("BERTH_INSTALL_RENDER_ONLY", "1");
    env.put("BERTH_API_URL", "https://berth.example.test");
    env.put("BERTH_TEMPLATE", template);
    env.put("BERTH_SLOTS_PER_HOST", String.valueOf(slots));
    env.putAll(extra);
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return p;
  }

  /** The [Service] section's settings of a unit file (one line each in Berth's units). */
  private static Map<String, String> section(Path unit) throws IOException {
    Map<String, String> settings = new HashMap<>();
    for (String line : Files.readAllLines(unit)) {
      int eq = line.indexOf('=');
      if (!line.startsWith("#") && eq > 0) {
        settings.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return settings;
  }

  private static Map<String, String> envFile(Path file) throws IOException {
    Map<String, String> env = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return env;
  }

  /** The unit as instance 1. */
  private static String instance(String value) {
    return value.replace("%i", "1");
  }

  /** systemd's expansion: ${VAR} as one word, $VAR split at whitespace; the result joined by spaces. */
  private static String expand(String command, Map<String, String> env) {
    Matcher m = VAR.matcher(command);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(env.getOrDefault(m.group(1), "")));
    }
    m.appendTail(out);
    List<String> words = new ArrayList<>(List.of(out.toString().trim().split("\\s+")));
    return String.join(" ", words);
  }

  private static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
