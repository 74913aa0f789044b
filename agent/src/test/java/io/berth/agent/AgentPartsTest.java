package io.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The agent's small pure parts: source networks, the JSON it reads and writes, activity readings, settings. */
class AgentPartsTest {
  @Test
  void networksMatchByPrefixAndNeverResolveNames() throws Exception {
    Cidr subnet = Cidr.parse("10.0.1.0/24");
    assertTrue(subnet.contains(InetAddress.getByName("10.0.1.200")));
    assertFalse(subnet.contains(InetAddress.getByName("10.0.2.1")));
    assertTrue(Cidr.parse("10.0.1.7").contains(InetAddress.getByName("10.0.1.7")));
    assertFalse(Cidr.parse("10.0.1.7").contains(InetAddress.getByName("10.0.1.8")));
    assertFalse(subnet.contains(InetAddress.getByName("::1")), "another family never matches");
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("worker.internal"));
  }

  @Test
  void credentialsRoundTripThroughTheirJsonWithEscapes() {
    Credentials c = new Credentials(2, "al\"ice\\x\u0001", "tok");
    Map<String, String> back = Json.fields(c.json());
    assertEquals("2", back.get("slot"));
    assertEquals("al\"ice\\x\u0001", back.get("user"));
    assertEquals("tok", back.get("token"));
    assertFalse(c.toString().contains("tok"), "no token in a record's string form");
  }

  @Test
  void devToolsTargetsDigestIgnoresOrderAndTitles() {
    String a = "[{\"id\":\"1\",\"type\":\"page\",\"title\":\"A\",\"url\":\"https://x/\"},{\"id\":\"2\",\"type\":\"page\",\"url\":\"about:blank\"}]";
    String b = "[{\"id\":\"2\",\"type\":\"page\",\"url\":\"about:blank\"},{\"id\":\"1\",\"type\":\"page\",\"title\":\"B\",\"url\":\"https://x/\"}]";
    String navigated = a.replace("https://x/", "https://y/");
    assertEquals(Activity.targetsDigest(a), Activity.targetsDigest(b));
    assertNotEquals(Activity.targetsDigest(a), Activity.targetsDigest(navigated));
  }

  @Test
  void establishedConnectionsToThePortCountUnlessTheAgentHoldsTheOtherEnd() {
    List<Activity.TcpConnections.Entry> rows = Activity.TcpConnections.parse(List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 100 1",
        "   1: 0200007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 101 1",
        "   2: 0100007F:C350 0200007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 102 1",
        "   3: 0200007F:1F90 0100007F:C351 01 00000000:00000000 00:00000000 00000000  1000        0 103 1"));
    assertEquals(2, Activity.TcpConnections.count(rows, 8080, Set.of()), "two clients on :8080 (the listener does not count)");
    assertEquals(1, Activity.TcpConnections.count(rows, 8080, Set.of("102")), "the agent's own connection left out");
    assertEquals(0, Activity.TcpConnections.count(rows, 8081, Set.of()));
  }

  @Test
  void settingsDefaultToTheRecipeAndNameTheVariableWhenWrong() {
    AgentConfig c = AgentConfig.fromEnv(Map.of("BERTH_API_URL", "https://berth.example.com/"));
    assertEquals("https://berth.example.com", c.apiUrl().toString());
    assertEquals(List.of("systemctl", "start", "berth-code-server@{slot}.service"), c.startCommand());
    assertEquals("/healthz", c.healthPath());
    assertEquals(null, c.listenHost(), "the private address comes from the metadata service");
    assertEquals("Recycle", c.recycleTag(0));
    AgentConfig two = AgentConfig.fromEnv(Map.of("BERTH_API_URL", "http://a", "BERTH_SLOTS_PER_HOST", "2", "BERTH_TEMPLATE", "chromium"));
    assertEquals("Recycle-1", two.recycleTag(1));
    assertEquals("/json/version", two.healthPath());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.fromEnv(Map.of("BERTH_API_URL", "http://a", "BERTH_AGENT_HEARTBEAT_INTERVAL", "30")));
    assertTrue(e.getMessage().contains("BERTH_AGENT_HEARTBEAT_INTERVAL"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> AgentConfig.fromEnv(Map.of("BERTH_API_URL", "http://a", "BERTH_TEMPLATE", "vnc")));
    assertTrue(e.getMessage().contains("BERTH_TEMPLATE"), e.getMessage());
  }
}
