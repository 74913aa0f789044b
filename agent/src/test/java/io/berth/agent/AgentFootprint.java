package io.berth.agent;

import com.sun.net.httpserver.HttpServer;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FakeImds;
import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures berth-agent's resident memory and CPU as the recipe runs it (the unit's JVM flags,
 * {@code java -jar agent/target/berth-agent.jar}): at rest, and relaying one heartbeat per 30 s
 * for each of N slots whose template shows activity at every reading. Not a test: run after
 * {@code mvn -pl agent -am package} with
 * {@code java -cp <test class path> io.berth.agent.AgentFootprint <slots> <seconds> [rest]} ({@code rest}:
 * no tokens handed over, so nothing to relay); prints one line.
 */
public final class AgentFootprint {
  /** The JVM flags of deploy/aws/systemd/berth-agent.service; {@code -Dflags=...} tries others. */
  static final String UNIT_FLAGS = "-Xmx48m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  private AgentFootprint() {}

  public static void main(String[] args) throws Exception {
    int slots = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    try (FakeAws aws = FakeAws.start().group("g", 0, 1, 1); FakeApi api = new FakeApi()) {
      FakeAws.Instance instance = aws.members("g").get(0);
      FakeImds imds = FakeImds.start(aws, instance.id());
      int templatePort = FreePorts.next();
      List<HttpServer> templates = templates(instance.privateAddress(), templatePort, slots);
      int agentPort = FreePorts.next();
      Path state = Files.createTempDirectory("footprint");
      List<String> command = new ArrayList<>(List.of("java"));
      command.addAll(List.of(System.getProperty("flags", UNIT_FLAGS).split(" ")));
      command.addAll(List.of("-jar", "agent/target/berth-agent.jar"));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(state.resolve("agent.log").toFile());
      pb.environment().putAll(Map.of("BERTH_AGENT_LISTEN", ":" + agentPort, "BERTH_API_URL", api.url().toString(),
          "BERTH_AGENT_STATE_DIR", state.resolve("run").toString(), "BERTH_SLOTS_PER_HOST", String.valueOf(slots),
          "BERTH_AGENT_TEMPLATE_HOST", instance.privateAddress(), "BERTH_AWS_TEMPLATE_PORT", String.valueOf(templatePort),
          "BERTH_AGENT_METADATA_URL", imds.endpoint().toString(), "BERTH_AWS_ENDPOINT", aws.endpoint().toString(),
          "AWS_ACCESS_KEY_ID", "AKIDFOOTPRINT", "AWS_SECRET_ACCESS_KEY", "footprint"));
      Process agent = pb.start();
      awaitUp(instance.privateAddress(), agentPort);
      boolean rest = args.length > 2 && "rest".equals(args[2]);
      for (int i = 0; i < (rest ? 0 : slots); i++) {
        api.live("tok-" + i);
        put(instance.privateAddress(), agentPort, i);
      }
      Thread.sleep(30_000); // settle: class loading, the first readings
      long rss0 = rssKb(agent.pid());
      long cpu0 = cpuTicks(agent.pid());
      int beats0 = api.beats().size();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L); // the measured period
      double wall = (System.nanoTime() - t0) / 1e9;
      long cpu = cpuTicks(agent.pid()) - cpu0;
      System.out.printf((rest ? "at rest, " : "") + "slots=%d period=%.0fs rss=%d->%d KiB cpu=%.2f s (%.3f%% of a core) heartbeats=%d%n", slots, wall, rss0,
          rssKb(agent.pid()), cpu / 100.0, 100.0 * cpu / 100.0 / wall, api.beats().size() - beats0);
      agent.destroy();
      templates.forEach(t -> t.stop(0));
      imds.close();
    }
  }

  /** Slot i answers /healthz with a lastHeartbeat that moves at every reading: a slot always in use. */
  private static List<HttpServer> templates(String address, int port, int slots) throws IOException {
    List<HttpServer> servers = new ArrayList<>();
    AtomicLong clock = new AtomicLong(1);
    for (int i = 0; i < slots; i++) {
      HttpServer s = HttpServer.create(new InetSocketAddress(address, port + i), 16);
      s.createContext("/", ex -> {
        byte[] b = ("{\"status\":\"alive\",\"lastHeartbeat\":" + clock.incrementAndGet() + "}").getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
        ex.close();
      });
      s.start();
      servers.add(s);
    }
    return servers;
  }

  private static void put(String address, int port, int slot) throws Exception {
    String body = "{\"slot\":" + slot + ",\"user\":\"u" + slot + "\",\"token\":\"tok-" + slot + "\"}";
    HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + address + ":" + port + "/berth/credentials"))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
  }

  private static void awaitUp(String address, int port) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      try (var s = new java.net.Socket(address, port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("the agent did not come up");
  }

  private static long rssKb(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1L);
  }

  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
