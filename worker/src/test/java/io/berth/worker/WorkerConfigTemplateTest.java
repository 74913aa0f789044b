package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigTemplateTest {
  @Test
  void templateSettingsDefaultFromTheStateDirAndTheTemplate() {
    WorkerConfig demo = WorkerConfig.fromEnv(Map.of("BERTH_STATE_DIR", "/srv/berth"));
    WorkerConfig.TemplateSettings t = demo.templateSettings();
    assertEquals("/", t.probePath());
    assertEquals("client", t.upstreamHost());
    assertEquals(Path.of("/srv/berth/tools/code-server/bin/code-server"), t.codeServerBin());
    assertEquals("", t.chromiumBin());
    assertEquals(Duration.ofSeconds(5), t.activityInterval());

    WorkerConfig chromium = WorkerConfig.fromEnv(Map.of("BERTH_TEMPLATE", "chromium"));
    assertEquals("upstream", chromium.templateSettings().upstreamHost(), "DevTools refuses the browser's Host");
  }

  @Test
  void everyTemplateSettingComesFromItsVariable() {
    WorkerConfig c = WorkerConfig.fromEnv(Map.of(
        "BERTH_STATE_DIR", "/srv/berth",
        "BERTH_TEMPLATE", "command",
        "BERTH_TEMPLATE_COMMAND", "python3 -m http.server {port} --bind 127.0.0.1",
        "BERTH_TEMPLATE_PROBE_PATH", "/health",
        "BERTH_UPSTREAM_HOST", "upstream",
        "BERTH_CODE_SERVER_DIR", "/opt/cs",
        "BERTH_CHROMIUM_BIN", "/usr/bin/chromium",
        "BERTH_ACTIVITY_INTERVAL", "PT1S"));
    assertEquals("python3 -m http.server {port} --bind 127.0.0.1", c.templateCommand());
    WorkerConfig.TemplateSettings t = c.templateSettings();
    assertEquals("/health", t.probePath());
    assertEquals("upstream", t.upstreamHost());
    assertEquals(Path.of("/opt/cs/bin/code-server"), t.codeServerBin());
    assertEquals("/usr/bin/chromium", t.chromiumBin());
    assertEquals(Duration.ofSeconds(1), t.activityInterval());
    assertEquals(Path.of("/x/code-server"),
        WorkerConfig.fromEnv(Map.of("BERTH_CODE_SERVER_BIN", "/x/code-server")).templateSettings().codeServerBin());
    assertThrows(IllegalArgumentException.class,
        () -> WorkerConfig.fromEnv(Map.of("BERTH_ACTIVITY_INTERVAL", "5s")));
  }
}
