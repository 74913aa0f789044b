package io.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.testkit.FakeAws;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth-agent as a real process on a fake instance's 127.0.0.x address, with the fake metadata
 * service and the wire-level AWS fake: the credentials contract of docs/AWS-DEPLOY.md, the token
 * file, who may call it, and heartbeats from template activity to the API.
 */
class AgentContractTest {
  static final Duration BOUND = Duration.ofSeconds(60);

  @TempDir Path tmp;
  FakeAws aws;
  AgentBox box;

  @BeforeEach
  void start() throws Exception {
    aws = FakeAws.start();
    box = new AgentBox(tmp, aws).env("BERTH_AGENT_ALLOW_FROM", "127.0.0.1/32");
    box.startTemplate(0);
  }

  @AfterEach
  void stop() throws Exception {
    box.close();
    aws.close();
  }

  @Test
  void credentialsAreHandedOverReplacedAndRevokedAndKeptInARootOnlyFileAcrossRestarts() throws Exception {
    box.startAgent();
    Path file = box.stateDir().resolve("slot-0.json");
    assertTrue(Files.exists(box.stateDir().resolve("ready")), "the file the template units wait for at boot");

    assertEquals(204, box.put(0, "alice", "tok-alice-1"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(box.stateDir())));
    assertTrue(Files.readString(file).contains("\"token\":\"tok-alice-1\""));

    assertEquals(204, box.put(0, "bob", "tok-bob-2"), "a second PUT replaces");
    assertTrue(Files.readString(file).contains("\"user\":\"bob\""));
    assertFalse(Files.readString(file).contains("tok-alice-1"));

    // Restarted, the agent still holds bob's token and relays his activity with it.
    box.api.live("tok-bob-2");
    box.stopAgent();
    assertTrue(Files.exists(file), "the token file outlives the agent");
    box.startAgent();
    assertTrue(box.logText().contains("kept the token of bob"), box.logText());
    box.awaitReadings(0, 1);
    box.touch(0);
    Await.until("a heartbeat with bob's token after the restart", BOUND, () -> box.api.beats("tok-bob-2") > 0);

    assertEquals(204, box.delete(0));
    assertFalse(Files.exists(file), "revoked: the file is gone");
    assertEquals(404, box.delete(0), "nothing left to revoke");

    assertEquals(400, box.put(5, "carol", "tok"), "a slot the instance does not have");
    assertEquals(400, box.put(0, "carol", ""), "no token");
    assertEquals(400, box.put(0, "carol", "two words"), "a token that could not be a bearer token");
    assertEquals(405, AgentBox.send(box.address(), HttpRequest.newBuilder(box.credentialsUri(box.address(), "")).GET()));

    String logs = box.allLogs();
    for (String token : new String[] {"tok-alice-1", "tok-bob-2"}) {
      assertFalse(logs.contains(token), "a token in the agent's output:\n" + logs);
    }
  }

  @Test
  void onlyThePrivateAddressAndTheAllowedSourcesAreServed() throws Exception {
    box.startAgent();
    // Another local address of the machine: nothing listens there.
    assertThrows(ConnectException.class, () -> AgentBox.send("127.0.0.1",
        HttpRequest.newBuilder(box.credentialsUri("127.0.0.1", "?slot=0")).DELETE()));
    // The right address from a source outside BERTH_AGENT_ALLOW_FROM: refused before anything is read.
    assertEquals(204, box.put(0, "alice", "tok-alice"));
    assertEquals(403, rawDeleteFrom("127.0.0.77"));
    assertTrue(Files.exists(box.stateDir().resolve("slot-0.json")), "the refused DELETE left the token");
    assertTrue(box.logText().contains("refused a credentials request from 127.0.0.77"), box.logText());
    assertEquals(204, rawDeleteFrom("127.0.0.1"), "the allowed source, same raw request");
  }

  @Test
  void heartbeatsFlowWhileTheTemplateShowsActivityAndStopWhenItDoesNot() throws Exception {
    box.startAgent();
    box.api.live("tok-alice");
    assertEquals(204, box.put(0, "alice", "tok-alice"));
    box.awaitReadings(0, 1);

    for (int i = 1; i <= 3; i++) {
      box.touch(0);
      long n = i;
      Await.until("heartbeat " + i, BOUND, () -> box.api.beats("tok-alice") >= n);
    }
    FakeApi.Beat beat = box.api.beats().get(0);
    assertEquals(204, beat.status());
    assertEquals(0, beat.bodyBytes(), "a POST with no body");

    // No use: readings go on, beats do not.
    box.awaitReadings(0, 2);
    long quiet = box.api.beats("tok-alice");
    box.awaitReadings(0, 5);
    assertEquals(quiet, box.api.beats("tok-alice"), "no heartbeat without activity");
    assertEquals(3, quiet, "one heartbeat per change of lastHeartbeat");

    // The API no longer knows the token (the workspace ended): 401, and the agent forgets it.
    assertEquals(204, box.put(0, "dan", "tok-dan-gone"));
    box.awaitReadings(0, 1);
    box.touch(0);
    Await.until("the token forgotten after 401", BOUND, () -> !Files.exists(box.stateDir().resolve("slot-0.json")));
    assertEquals(1, box.api.beats("tok-dan-gone"), "a 401 is not retried");
    assertEquals(404, box.delete(0));
  }

  @Test
  void badSettingsStopTheAgentWithAMessage() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.berth.agent.BerthAgent").redirectErrorStream(true);
    pb.environment().remove("BERTH_API_URL");
    Process p = pb.start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("BERTH_API_URL is required"), out);
  }

  /** A DELETE sent from a chosen local source address (HttpClient cannot pick one). */
  private int rawDeleteFrom(String source) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
      s.connect(new InetSocketAddress(box.address(), box.agentPort), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("DELETE " + CredentialsServer.PATH + "?slot=0 HTTP/1.1\r\nHost: " + box.address()
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      return Integer.parseInt(status.substring(9, 12));
    }
  }
}
