package io.berth.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@link FakeAws} instance as deploy/aws's recipe sets it up, on its 127.0.0.x address: its
 * {@link FakeImds}, slot 0's home, start and stop scripts that run {@link FakeTemplate} as a
 * background process (what {@code systemctl start|stop} does on an instance), and berth-agent
 * itself as a real process ({@code java -cp <this JVM's class path> io.berth.agent.BerthAgent},
 * so the agent module must be on the test class path).
 */
public class AgentHost implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  public final FakeAws aws;
  public final FakeImds imds;
  public final FakeAws.Instance instance;
  public final Path dir;
  public final int agentPort;
  public final int templatePort;
  private final URI apiUrl;
  private final Map<String, String> extraEnv = new HashMap<>();
  private boolean instanceRole;
  private String templateCommand;
  private Process agent;
  private int agentStarts;
  private long touches = 1_700_000_000_000L;

  /** Sets the instance up in {@code dir}; nothing runs until {@link #startTemplate} and {@link #startAgent}. */
  public AgentHost(Path dir, FakeAws aws, FakeAws.Instance instance, URI apiUrl, int agentPort, int templatePort)
      throws IOException {
    this.dir = dir;
    this.aws = aws;
    this.instance = instance;
    this.apiUrl = apiUrl;
    this.agentPort = agentPort;
    this.templatePort = templatePort;
    this.imds = FakeImds.start(aws, instance.id());
    Files.createDirectories(home(0));
    Files.createDirectories(dir.resolve("run/slot-0"));
    templateCommand = "'" + java() + "' -cp '" + System.getProperty("java.class.path") + "' io.berth.testkit.FakeTemplate"
        + " {address} {port} {home}";
    writeScripts();
  }

  public String address() {
    return instance.privateAddress();
  }

  public Path home(int slot) {
    return dir.resolve("home" + slot);
  }

  public Path stateDir() {
    return dir.resolve("state");
  }

  public Path log() {
    return dir.resolve("agent-" + agentStarts + ".log");
  }

  public AgentHost env(String name, String value) {
    extraEnv.put(name, value);
    return this;
  }

  // ---- the agent process -----------------------------------------------------------------------

  public void startAgent() throws IOException {
    agentStarts++;
    ProcessBuilder pb = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), "io.berth.agent.BerthAgent")
        .redirectErrorStream(true).redirectOutput(log().toFile());
    pb.environment().putAll(agentEnv());
    agent = pb.start();
    Await.until("the agent listening on " + address() + ":" + agentPort, Duration.ofSeconds(60),
        () -> agent.isAlive() && logText().contains("berth-agent on " + instance.id()));
  }

  public void stopAgent() throws InterruptedException {
    if (agent != null) {
      agent.destroy();
      if (!agent.waitFor(10, TimeUnit.SECONDS)) {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** The agent's AWS calls sign with the instance role's credentials from the metadata service, as on EC2. */
  public AgentHost instanceRole() {
    instanceRole = true;
    return this;
  }

  public Map<String, String> agentEnv() {
    Map<String, String> env = new HashMap<>(Map.ofEntries(
        Map.entry("BERTH_AGENT_LISTEN", ":" + agentPort),
        Map.entry("BERTH_API_URL", apiUrl.toString()),
        Map.entry("BERTH_AGENT_STATE_DIR", stateDir().toString()),
        Map.entry("BERTH_TEMPLATE", "code-server"),
        Map.entry("BERTH_AGENT_TEMPLATE_HOST", address()),
        Map.entry("BERTH_AWS_TEMPLATE_PORT", String.valueOf(templatePort)),
        Map.entry("BERTH_AGENT_HOME", dir.resolve("home{slot}").toString()),
        Map.entry("BERTH_AGENT_START", "sh " + dir.resolve("start.sh") + " {slot}"),
        Map.entry("BERTH_AGENT_STOP", "sh " + dir.resolve("stop.sh") + " {slot}"),
        Map.entry("BERTH_AGENT_METADATA_URL", imds.endpoint().toString()),
        Map.entry("BERTH_AWS_ENDPOINT", aws.endpoint().toString()),
        Map.entry("BERTH_AGENT_HEARTBEAT_INTERVAL", "PT0.2S"),
        Map.entry("BERTH_AGENT_TAG_INTERVAL", "PT0.2S"),
        Map.entry("BERTH_AGENT_TEMPLATE_TIMEOUT", "PT60S"),
        // Static credentials for the SDK; nothing may look for a metadata service off this machine.
        Map.entry("AWS_ACCESS_KEY_ID", "AKIDBERTHAGENT"),
        Map.entry("AWS_SECRET_ACCESS_KEY", "berth-agent-test-secret"),
        Map.entry("AWS_EC2_METADATA_DISABLED", "true")));
    if (instanceRole) {
      env.remove("AWS_ACCESS_KEY_ID");
      env.remove("AWS_SECRET_ACCESS_KEY");
      env.remove("AWS_EC2_METADATA_DISABLED");
      env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint().toString());
    }
    env.putAll(extraEnv);
    return env;
  }

  public String logText() {
    try {
      return Files.exists(log()) ? Files.readString(log(), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything every agent process of this box wrote. */
  public String allLogs() throws IOException {
    StringBuilder all = new StringBuilder();
    for (int i = 1; i <= agentStarts; i++) {
      all.append(Files.readString(dir.resolve("agent-" + i + ".log"), StandardCharsets.UTF_8));
    }
    return all.toString();
  }

  // ---- talking to the agent as the worker does -------------------------------------------------

  public int put(int slot, String user, String token) throws IOException, InterruptedException {
    String body = "{\"slot\":" + slot + ",\"user\":\"" + user + "\",\"token\":\"" + token + "\"}";
    return send(address(), HttpRequest.newBuilder(credentialsUri(address(), "")).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  public int delete(int slot) throws IOException, InterruptedException {
    return send(address(), HttpRequest.newBuilder(credentialsUri(address(), "?slot=" + slot)).DELETE());
  }

  public URI credentialsUri(String host, String query) {
    return URI.create("http://" + host + ":" + agentPort + "/berth/credentials" + query);
  }

  public static int send(String host, HttpRequest.Builder request) throws IOException, InterruptedException {
    return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  // ---- the template ----------------------------------------------------------------------------

  public void startTemplate(int slot) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", dir.resolve("start.sh").toString(), String.valueOf(slot)).inheritIO().start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("start.sh failed");
    }
    Await.until("the template answering /healthz", Duration.ofSeconds(60), () -> templateGet(slot, "/healthz") != null);
  }

  public void stopTemplate(int slot) throws IOException, InterruptedException {
    new ProcessBuilder("sh", dir.resolve("stop.sh").toString(), String.valueOf(slot)).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
  }

  /** The body of a GET on the template, or null when it does not answer. */
  public String templateGet(int slot, String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + address() + ":" + (templatePort + slot) + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** How many /healthz readings the template has served (the agent's activity reads). */
  public int readings(int slot) {
    String count = templateGet(slot, "/count");
    return count == null ? -1 : Integer.parseInt(count.trim());
  }

  /** Waits for {@code n} more agent readings of the slot. */
  public void awaitReadings(int slot, int n) {
    int from = readings(slot);
    Await.until(n + " more activity readings", Duration.ofSeconds(60), () -> readings(slot) >= from + n);
  }

  /** Use of the workspace, as code-server records it: its heartbeat file's time moves. */
  public void touch(int slot) throws IOException {
    Path beat = home(slot).resolve(".heartbeat");
    if (!Files.exists(beat)) {
      Files.createFile(beat);
    }
    Files.setLastModifiedTime(beat, FileTime.fromMillis(touches += 1000));
  }

  public List<String> templateStarts(int slot) throws IOException {
    Path starts = dir.resolve("run/slot-" + slot + "/starts");
    return Files.exists(starts) ? Files.readAllLines(starts) : List.of();
  }

  /**
   * The template each slot runs instead of {@link FakeTemplate}: a command line with {@code {address}},
   * {@code {port}} and {@code {home}}, e.g. a real code-server.
   */
  public AgentHost templateCommand(String command) throws IOException {
    templateCommand = command;
    writeScripts();
    return this;
  }

  /**
   * start.sh runs the template in its own session, in the background (as systemctl start returns
   * once it forked), and records its pid; stop.sh ends the whole process group (as the units'
   * KillMode=control-group does) and waits, bounded, until it is gone.
   */
  private void writeScripts() throws IOException {
    String run = dir.resolve("run") + "/slot-$1";
    String home = dir.resolve("home") + "$1";
    String command = templateCommand.replace("{address}", address()).replace("{port}", "$((" + templatePort + " + $1))")
        .replace("{home}", home);
    String start = "#!/bin/sh\n# Starts slot $1's template in the background and returns, as systemctl start does.\nset -eu\n"
        + "mkdir -p " + run + "\n"
        + "HOME=" + home + " setsid nohup " + command + " >>" + run + "/template.log 2>&1 </dev/null &\n"
        + "echo $! >" + run + "/pid\necho $! >>" + run + "/starts\n";
    String stop = "#!/bin/sh\n# Stops slot $1's template and waits (bounded) until it is gone, as systemctl stop does.\n"
        + "pid=$(cat " + run + "/pid 2>/dev/null) || exit 0\nkill -- \"-$pid\" 2>/dev/null || kill \"$pid\" 2>/dev/null || exit 0\n"
        + "i=0\nwhile kill -0 \"$pid\" 2>/dev/null && [ \"$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null)\" != Z ] && [ $i -lt 100 ]; do\n"
        + "  i=$((i + 1)); sleep 0.1\ndone\nrm -f " + run + "/pid\n";
    Files.writeString(dir.resolve("start.sh"), start);
    Files.writeString(dir.resolve("stop.sh"), stop);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  @Override
  public void close() throws Exception {
    stopAgent();
    stopTemplate(0);
    imds.close();
  }
}
