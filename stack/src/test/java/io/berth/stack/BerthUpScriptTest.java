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
import redis.clients.jedis.RedisClient;

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

  /**
   * {@code ./berth up} four times on one Redis and one state directory, with two workspaces each
   * time, stopped each time another way: the JVM killed (SIGKILL, no shutdown hook), SIGTERM,
   * Ctrl-C. Each start shows only what runs: no workspace, the hosts the spare target needs, no
   * record of an earlier run, and no more keys than the first start had.
   */
  @Test
  void restartsOnOneRedisLeaveNothingStale() throws Exception {
    Path state = Files.createTempDirectory("berth-restart");
    Path log = state.resolve("up.log");
    try (PrivateRedis redis = PrivateRedis.start(); RedisClient r = RedisClient.create(redis.url())) {
      Map<String, String> env = new java.util.HashMap<>(Map.of(
          "BERTH_STATE_DIR", state.toString(), "BERTH_REDIS_URL", redis.url(),
          "BERTH_API_PORT", String.valueOf(FreePorts.next()), "BERTH_GATEWAY_LISTEN", "127.0.0.1:" + FreePorts.next(),
          "BERTH_TEMPORAL_PORT", String.valueOf(FreePorts.next()), "BERTH_PORT_RANGE", "29300-29500",
          "BERTH_NO_BUILD", "1", "BERTH_RECONCILE_INTERVAL", "PT1S", "BERTH_SCALE_IN_STABLE_WINDOW", "PT2S"));
      String api = "http://127.0.0.1:" + env.get("BERTH_API_PORT");
      long firstKeys = -1;
      for (String stop : List.of("KILL", "TERM", "INT", "INT")) {
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("berth").toString(), "up").directory(ROOT.toFile())
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        int banners = count(read(log), "Berth is up.");
        Process up = pb.start();
        Process running = up;
        try {
          Await.until("./berth up to print its banner", Duration.ofSeconds(90),
              () -> count(read(log), "Berth is up.") > banners || !running.isAlive());
          assertTrue(up.isAlive(), read(log));
          String admin = run(env, ROOT.resolve("berth").toString(), "token", "ops", "--admin").trim();
          String status = Await.value("a fresh fleet: no workspace, one host for one spare", Duration.ofSeconds(60),
              () -> {
                String st = run(env, "curl", "-s", "-H", "Authorization: Bearer " + admin, api + "/api/status");
                return st.contains("\"active\":0") && st.contains("\"desired\":1,") && st.contains("\"sparesReady\":1")
                    ? st : null;
              });
          assertEquals("[]", run(env, "curl", "-s", "-H", "Authorization: Bearer " + admin,
              api + "/api/admin/workspaces").trim(), status);
          // Not the singletons that reporters write on their own schedule (metrics, health).
          java.util.Set<String> keys = new java.util.TreeSet<>(r.keys("berth:*"));
          keys.removeIf(k -> k.equals("berth:metrics") || k.startsWith("berth:health:"));
          java.util.Set<String> hosts = r.smembers("berth:insts");
          for (String k : keys) {
            assertTrue(!k.matches("berth:(ws|route|claim|hb|hbwin|idle|user):.*") || k.equals("berth:ws:pings")
                || k.equals("berth:ws:users"), "a record of an earlier run: " + k + " in " + keys);
            java.util.regex.Matcher host = java.util.regex.Pattern.compile("berth:(?:slot|inst):(h-[0-9]+).*").matcher(k);
            assertTrue(!host.matches() || hosts.contains(host.group(1)), "a host that is gone: " + k + " in " + keys);
          }
          if (firstKeys < 0) {
            firstKeys = keys.size();
          }
          assertTrue(keys.size() <= firstKeys, "keys grow: " + keys.size() + " > " + firstKeys + ": " + keys);
          for (String user : List.of("alice", "bob")) {
            String token = run(env, ROOT.resolve("berth").toString(), "token", user).trim();
            Await.until(user + "'s READY workspace", Duration.ofSeconds(60), () -> run(env, "curl", "-s", "-XPOST",
                "-H", "Authorization: Bearer " + token, api + "/api/workspaces").contains("\"READY\""));
          }
        } finally {
          stop(up, stop);
        }
      }
      List<String> left = leftovers(state);
      assertTrue(left.isEmpty(), "processes left behind: " + left);
    }
  }

  /** KILL: the JVM alone, as a crash would (the script then exits); TERM and INT: to the script. */
  private static void stop(Process up, String how) throws Exception {
    if (how.equals("KILL")) {
      for (ProcessHandle c : up.children().toList()) {
        if (c.info().command().orElse("").endsWith("java")) {
          new ProcessBuilder("kill", "-KILL", String.valueOf(c.pid())).start().waitFor();
        }
      }
    } else {
      new ProcessBuilder("kill", "-" + how, String.valueOf(up.pid())).start().waitFor();
    }
    if (!up.waitFor(60, TimeUnit.SECONDS)) {
      up.descendants().forEach(ProcessHandle::destroyForcibly);
      up.destroyForcibly();
      throw new AssertionError("./berth up did not stop on SIG" + how);
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
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
