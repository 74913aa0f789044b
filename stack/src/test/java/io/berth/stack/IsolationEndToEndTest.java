package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.activities.fleet.local.SlotBox;
import io.berth.activities.routing.GatewayClient;
import io.berth.workflows.GatewayToken;
import io.berth.workflows.Labels;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Workspace isolation (docs/SECURITY.md), tried by an attacker: a {@code command} workspace running
 * {@code attack.py}, 3 slots per host, its neighbour a victim's workspace on the same host. From
 * inside its slot it tries to read Berth's secrets, the victim's heartbeat token and home, to
 * write to Redis, to terminate the controller's workflow on the embedded Temporal, and to call the
 * gateway endpoints as Nginx would. Each must fail, while the same workspace still serves its owner
 * through the gateway. Controls show each try would have worked without its control: the slot
 * reads its own token, and Berth's own user reaches Temporal with the very same request.
 */
class IsolationEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JWT_SECRET_TEXT = "jwt-secret-file-content-0123456789abcdef";
  private static final String VICTIM_NOTES = "victim's private notes 7f3a";
  static StackFixture f;
  static Path stateDir;

  @BeforeAll
  static void start() throws IOException {
    StringBuilder why = new StringBuilder();
    Path trial = Files.createTempDirectory("berth-iso-probe");
    boolean boxable = SlotBox.probe(trial, why) != null;
    Files.delete(trial);
    Assumptions.assumeTrue(boxable, () -> "slots cannot be boxed here (" + why + "): ./berth test runs as root");
    stateDir = Files.createTempDirectory("berth-iso");
    // What ./berth token keeps there: the key that mints any user's (and an admin's) JWT.
    secretFile(stateDir.resolve("jwt-secret"), JWT_SECRET_TEXT);
    // Another user's home (what code-server keeps under users/<label>/).
    Path victimHome = Files.createDirectories(stateDir.resolve("users").resolve(Labels.labelFor("victim")),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    secretFile(victimHome.resolve("notes.txt"), VICTIM_NOTES);
    Path scriptDir = Files.createTempDirectory("berth-iso-script");
    Path script = scriptDir.resolve("attack.py");
    try (InputStream in = IsolationEndToEndTest.class.getResourceAsStream("/isolation/attack.py")) {
      Files.write(script, in.readAllBytes());
    }
    f = StackFixture.start(Map.of(
        "BERTH_STATE_DIR", stateDir.toString(),
        "BERTH_TEMPLATE", "command",
        "BERTH_TEMPLATE_COMMAND", "python3 " + script + " {port}",
        "BERTH_TEMPLATE_PROBE_PATH", "/healthz",
        "BERTH_SLOTS_PER_HOST", "3",
        "BERTH_SPARES", "2"));
    f.awaitSpares(3);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static void secretFile(Path file, String content) throws IOException {
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content);
  }

  private static Path slotDir(String user) {
    Map<String, String> ws = f.session(user);
    return stateDir.resolve("fleet").resolve(ws.get("hostId")).resolve("slot-" + ws.get("slotId").split("/")[1]);
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8).trim();
  }

  @Test
  void anAttackerInASlotReachesNothingOfBerthNorItsNeighbour() throws Exception {
    f.ready("victim");
    f.ready("mallory");
    Map<String, String> victim = f.session("victim");
    Map<String, String> mallory = f.session("mallory");
    assertEquals(victim.get("hostId"), mallory.get("hostId"), "victim and attacker share a host (3 slots per host)");
    int malloryPort = Integer.parseInt(mallory.get("port"));

    Map<String, String> secrets = new LinkedHashMap<>();
    secrets.put("jwt secret", stateDir.resolve("jwt-secret").toString());
    secrets.put("gateway secret", stateDir.resolve("gateway-secret").toString());
    secrets.put("gateway token", stateDir.resolve(GatewayToken.FILE_NAME).toString());
    secrets.put("redis password", stateDir.resolve("redis-password").toString());
    secrets.put("nginx config", stateDir.resolve("nginx/conf/nginx.conf").toString());
    secrets.put("victim's token", slotDir("victim").resolve("token").toString());
    secrets.put("victim's home", stateDir.resolve("users").resolve(Labels.labelFor("victim")).resolve("notes.txt")
        .toString());
    for (String name : secrets.keySet()) {
      assertTrue(Files.isRegularFile(Path.of(secrets.get(name))), name + " exists, so a failed read means something");
    }
    Path ownToken = slotDir("mallory").resolve("token");
    List<String> files = new ArrayList<>(secrets.values());
    files.add(ownToken.toString());
    List<String> dirs = List.of(stateDir.toString(), stateDir.resolve("fleet").toString(),
        slotDir("victim").toString(), stateDir.resolve("users").toString());
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("files", files);
    cfg.put("dirs", dirs);
    cfg.put("redisPort", f.redisServer.port());
    cfg.put("temporalPort", Integer.parseInt(f.stack.temporal().target().replaceAll(".*:", "")));
    cfg.put("apiPort", Integer.parseInt(f.stack.apiUrl().replaceAll(".*:", "")));
    cfg.put("victimHost", f.hostname("victim"));
    cfg.put("victimPort", Integer.parseInt(victim.get("port")));
    String q = Base64.getUrlEncoder().encodeToString(JSON.writeValueAsBytes(cfg));

    // The attack runs in mallory's workspace, reached the legitimate way: through the gateway with the owner's cookie.
    GatewayClient.Answer answer = f.asOwner("mallory", "/attack?cfg=" + q);
    assertEquals(200, answer.status(), answer.body());
    JsonNode out = JSON.readTree(answer.body());

    assertEquals(SlotBox.uidFor(malloryPort), out.path("uid").asLong(), "the slot runs as its own uid: " + out);
    assertEquals(SlotBox.uidFor(malloryPort), out.path("gid").asLong());
    assertNotEquals(SlotBox.uidFor(Integer.parseInt(victim.get("port"))), out.path("uid").asLong());

    // 1. files: none of Berth's secrets, nothing of the neighbour or of another user's home
    for (Map.Entry<String, String> s : secrets.entrySet()) {
      String got = out.path("files").path(s.getValue()).asText();
      assertTrue(got.startsWith("DENIED:"), s.getKey() + " must not be readable from a slot, got " + got);
    }
    assertEquals("READ:" + read(ownToken), out.path("files").path(ownToken.toString()).asText().trim(),
        "control: the slot reads its own heartbeat token");
    for (String d : dirs) {
      assertTrue(out.path("dirs").path(d).asText().startsWith("DENIED:"), d + " listed from a slot: " + out.path("dirs"));
    }

    // 2. Redis: no write. The slot's firewall rule resets the connection (with nftables), and the
    // password refuses it anyway: shown apart, from a client no rule filters.
    String redisReply = out.path("redis").asText();
    assertTrue(redisReply.startsWith("-NOAUTH") || redisReply.startsWith("ERROR:Connection"),
        "Redis answered the slot: " + redisReply);
    assertFalse(f.stack.redis().exists("berth:pwned"), "the slot's SET landed");
    assertTrue(redisWithoutPassword(f.redisServer.port()).startsWith("-NOAUTH"), "Redis wants its password");

    // 3. Temporal: the terminate is refused (reset by the firewall, or PERMISSION_DENIED), the
    // controller still runs; the peer check alone refuses a uid no firewall rule names, and lets
    // Berth's own user in (control).
    int temporalPort = Integer.parseInt(f.stack.temporal().target().replaceAll(".*:", ""));
    String temporal = out.path("temporal").asText();
    assertTrue(temporal.contains("grpc-status: 7") || temporal.matches("(?s).*exit=(7|52|56)$"),
        "Temporal must refuse the slot: " + temporal);
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        f.stack.temporal().client().newUntypedWorkflowStub("capacity").describe().getStatus());
    assertTrue(grpcCall(temporalPort, "TerminateWorkflowExecution", OTHER_UID).contains("grpc-status: 7"),
        "the peer check refuses another uid");
    assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        f.stack.temporal().client().newUntypedWorkflowStub("capacity").describe().getStatus());
    String control = grpcCall(temporalPort, "GetSystemInfo", -1);
    assertTrue(control.contains("grpc-status: 0"), "control: Berth's own user reaches the frontend: " + control);

    // 5. the neighbour's port, around the gateway: reset by the slot's firewall rule; its own port answers
    if (nftables()) {
      assertTrue(out.path("neighbour").asText().startsWith("ERROR:"), "the neighbour answered: " + out.path("neighbour"));
    }
    assertTrue(out.path("self").asText().startsWith("HTTP/1.0 200"), "control: its own port: " + out.path("self"));

    // 4. the gateway endpoints: 403 without the gateway token, no upstream handed out
    out.path("gateway").fields().forEachRemaining(e -> {
      assertTrue(e.getValue().asText().startsWith("HTTP/1.1 403"), e.getKey() + " answered the slot: " + e.getValue());
      assertFalse(e.getValue().asText().toLowerCase().contains("x-berth-upstream"), e.getKey() + ": " + e.getValue());
    });

    // And the workspaces still serve their owners through the gateway.
    assertEquals("ok", f.asOwner("victim", "/healthz").body());
    assertEquals(204, f.heartbeat(f.workspaceToken("victim")).statusCode(), "the victim's own token still beats");

    // A release recycles the boxed slot: its whole tree goes, its firewall rule with it, a fresh box comes.
    Path victimSlot = slotDir("victim");
    long victimUid = SlotBox.uidFor(Integer.parseInt(victim.get("port")));
    List<ProcessHandle> tree = processesOf(victimUid);
    assertFalse(tree.isEmpty(), "the victim's box runs as its uid");
    assertEquals(202, f.call("DELETE", "/api/workspaces/me", StackFixture.token("victim"), null).statusCode());
    f.awaitEnd("victim", java.time.Duration.ofSeconds(60));
    for (ProcessHandle p : tree) {
      io.berth.testkit.Await.until("process " + p.pid() + " of the released box gone", java.time.Duration.ofSeconds(20),
          () -> !p.isAlive() || zombie(p.pid()));
    }
    assertFalse(Files.exists(victimSlot.resolve("token")), "the token went with the workspace");
  }

  private static List<ProcessHandle> processesOf(long uid) {
    return ProcessHandle.allProcesses().filter(p -> uidOf(p.pid()) == uid).toList();
  }

  private static long uidOf(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("Uid:")) {
          return Long.parseLong(line.split("\\s+")[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  private static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  /** A uid below the slots' range: no firewall rule names it, so only the peer check stands in its way. */
  private static final long OTHER_UID = SlotBox.UID_BASE - 1;

  private static boolean nftables() {
    return Files.isExecutable(Path.of("/usr/sbin/nft"));
  }

  /**
   * A gRPC call over the TCP frontend with curl, as the attacker sends its terminate
   * (TerminateWorkflowExecution of the controller; GetSystemInfo with an empty request), as
   * {@code uid} ({@code -1}: Berth's own user). Returns curl's headers and trailers.
   */
  private static String grpcCall(int port, String method, long uid) throws Exception {
    byte[] msg = method.equals("TerminateWorkflowExecution")
        ? new byte[] {0x0a, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0x12, 0x0a, 0x0a, 0x08, 'c', 'a', 'p', 'a', 'c', 'i',
            't', 'y'}
        : new byte[0];
    List<String> argv = new ArrayList<>();
    if (uid >= 0) {
      argv.addAll(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--"));
    }
    argv.addAll(List.of("curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-D", "-",
        "--max-time", "10", "-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", "@-",
        "http://127.0.0.1:" + port + "/temporal.api.workflowservice.v1.WorkflowService/" + method));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    p.getOutputStream().write(new byte[] {0, 0, 0, 0, (byte) msg.length});
    p.getOutputStream().write(msg);
    p.getOutputStream().close();
    assertTrue(p.waitFor(20, TimeUnit.SECONDS), "curl ended");
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  /** SET over a plain socket, as a client without the password (the test's own uid: no firewall rule). */
  private static String redisWithoutPassword(int port) throws IOException {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write("*3\r\n$3\r\nSET\r\n$11\r\nberth:pwned\r\n$1\r\n1\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      byte[] buf = new byte[200];
      int n = s.getInputStream().read(buf);
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII);
    }
  }
}
