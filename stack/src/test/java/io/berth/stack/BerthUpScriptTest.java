package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.Labels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code ./berth up} exactly as a newcomer runs it: start, allocate with curl, open the workspace
 * through Nginx with curl, Ctrl-C (SIGINT to the script), and no process left behind.
 */
class BerthUpScriptTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  @Test
  void upAllocateOpenCtrlCLeavesNothingBehind() throws Exception {
    Path state = Files.createTempDirectory("berth-up");
    Path log = state.resolve("up.log");
    int api = FreePorts.next();
    int gateway = FreePorts.next();
    try (PrivateRedis redis = PrivateRedis.start()) {
      ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("berth").toString(), "up")
          .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      Map<String, String> env = pb.environment();
      env.put("BERTH_STATE_DIR", state.toString());
      env.put("BERTH_REDIS_URL", redis.url());
      env.put("BERTH_API_PORT", String.valueOf(api));
      env.put("BERTH_GATEWAY_LISTEN", "127.0.0.1:" + gateway);
      env.put("BERTH_TEMPORAL_PORT", String.valueOf(FreePorts.next()));
      env.put("BERTH_PORT_RANGE", "29000-29200");
      env.put("BERTH_NO_BUILD", "1");
      Process up = pb.start();
      try {
        Await.until("./berth up to print its banner", Duration.ofSeconds(90),
            () -> read(log).contains("Berth is up.") || !up.isAlive());
        assertTrue(up.isAlive(), read(log));

        String token = run(env, ROOT.resolve("berth").toString(), "token", "alice").trim();
        String body = Await.value("a READY workspace", Duration.ofSeconds(60), () -> {
          String r = run(env, "curl", "-s", "-XPOST", "-H", "Authorization: Bearer " + token,
              "http://127.0.0.1:" + api + "/api/workspaces");
          return r.contains("\"READY\"") ? r : null;
        });
        String label = Labels.labelFor("alice");
        assertTrue(body.contains("http://" + label + ".localhost:" + gateway + "/"), body);
        // The URL alone sends a stranger to the dashboard; the launch link (once) lets alice in.
        String stranger = run(env, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
            "Host: " + label + ".localhost", "http://127.0.0.1:" + gateway + "/");
        assertEquals("302", stranger.trim());
        java.util.regex.Matcher launch = java.util.regex.Pattern.compile("\"launchUrl\":\"([^\"]+)\"").matcher(body);
        assertTrue(launch.find(), body);
        String jar = state.resolve("cookies.txt").toString();
        String page = run(env, "curl", "-s", "-L", "-c", jar, "-b", jar, launch.group(1));
        assertTrue(page.contains("Workspace of alice"), page);
      } finally {
        new ProcessBuilder("kill", "-INT", String.valueOf(up.pid())).start().waitFor();
        boolean exited = up.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
          up.descendants().forEach(ProcessHandle::destroyForcibly);
          up.destroyForcibly();
        }
        assertTrue(exited, "./berth up did not stop on Ctrl-C: " + read(log));
      }
      assertEquals(0, up.exitValue(), read(log));
      List<String> left = leftovers(state);
      assertTrue(left.isEmpty(), "processes left behind: " + left);
    }
  }

  /** Every process whose command line mentions the state dir (Nginx, workspaces, the JVM). */
  private static List<String> leftovers(Path state) {
    List<String> left = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(p -> p.info().commandLine()
        .filter(c -> c.contains(state.toString())).ifPresent(c -> left.add(p.pid() + " " + c)));
    return left;
  }

  private static String run(Map<String, String> env, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      p.waitFor(60, TimeUnit.SECONDS);
      return new String(out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
