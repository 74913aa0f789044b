package io.berth.activities.fleet.aws;

import static io.berth.activities.aws.TestAws.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.aws.TestAws;
import io.berth.testkit.FakeAws;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A group per template against FakeAws: sizes, reads and each call land on the template's own group. */
class AwsFleetsTest {
  private static final String DEMO_GROUP = "berth-demo";
  private static final String SHELL_GROUP = "berth-shell";
  private final FakeAws fake = FakeAws.start();
  private AwsClients clients;
  private AwsFleets fleet;

  @BeforeEach
  void start() {
    fake.group(DEMO_GROUP, 0, 4, 1).group(SHELL_GROUP, 0, 3, 2);
    AwsSettings base = TestAws.settings(fake);
    Map<String, AwsSettings> groups = new LinkedHashMap<>();
    groups.put("demo", settings(base, DEMO_GROUP, "demo", 2));
    groups.put("shell", settings(base, SHELL_GROUP, "shell", 1));
    clients = TestAws.clients(base);
    fleet = new AwsFleets("demo", groups, clients);
  }

  private static AwsSettings settings(AwsSettings b, String group, String template, int slots) {
    return new AwsSettings(b.region(), group, b.hostedZoneId(), b.domain(), b.addressKind(), b.dnsMode(),
        b.endpoint(), b.templatePort(), slots, template, b.agentPort());
  }

  @AfterEach
  void stop() {
    clients.close();
    fake.close();
  }

  @Test
  void eachTemplateReadsAndSizesItsOwnGroup() {
    FleetSnapshot shell = fleet.describe("shell");
    assertEquals(List.of(2, 0, 3), List.of(shell.desired(), shell.min(), shell.max()));
    assertEquals(2, shell.hosts().size());
    assertTrue(shell.hosts().stream().allMatch(h -> h.slots().size() == 1
        && h.slots().get(0).slot().template().equals("shell")));
    FleetSnapshot demo = fleet.describe("demo");
    assertEquals(1, demo.hosts().size());
    assertTrue(demo.hosts().get(0).slots().stream().allMatch(s -> s.slot().template().equals("demo")));
    FleetSnapshot all = fleet.describe();
    assertEquals(List.of(1, 0, 4, 3), List.of(all.desired(), all.min(), all.max(), all.hosts().size()));

    fleet.setDesiredCapacity("shell", 3);
    fleet.setDesiredCapacity(2);
    assertEquals(3, fake.desired(SHELL_GROUP));
    assertEquals(2, fake.desired(DEMO_GROUP));
    fails("InvalidInput", true, () -> fleet.setDesiredCapacity("nope", 1));
    assertTrue(fleet.describe("nope").hosts().isEmpty());
  }

  @Test
  void aSlotsCallGoesToItsTemplatesGroupAndAHostsToTheGroupItWasLaunchedIn() {
    Host shellHost = fleet.describe("shell").hosts().get(0);
    Slot shellSlot = shellHost.slots().get(0).slot();
    Slot demoSlot = fleet.describe("demo").hosts().get(0).slots().get(1).slot();

    fleet.tagOwner(shellSlot, "alice");
    fleet.tagOwner(demoSlot, "bob");
    assertEquals("alice", fake.instance(shellSlot.hostId()).tags().get("Owner"), "one slot per shell host");
    assertEquals("bob", fake.instance(demoSlot.hostId()).tags().get("Owner-1"), "two per demo host");
    assertEquals("alice", fleet.ownerOf(shellSlot));
    assertEquals("bob", fleet.ownerOf(demoSlot));

    fleet.setProtected(shellHost.hostId(), true);
    assertTrue(fake.instance(shellHost.hostId()).protectedFromScaleIn());
    assertEquals(SHELL_GROUP, fake.calls("SetInstanceProtection").get(0).params().get("AutoScalingGroupName"));

    String other = fleet.describe("shell").hosts().get(1).hostId();
    fleet.terminate(other, true);
    assertEquals(1, fake.desired(SHELL_GROUP), "the shell group's desired decremented");
    assertEquals(1, fake.desired(DEMO_GROUP), "the demo group's untouched");
    assertThrows(RuntimeException.class, () -> fleet.tagOwner(new Slot("i-0123456789abcdef0/0", "i-0123456789abcdef0",
        0, "127.0.0.1", 8080, "nope"), "carol"));
  }

  @Test
  void twoTemplatesOnOneGroupAreRefused() {
    AwsSettings base = TestAws.settings(fake);
    Map<String, AwsSettings> groups = Map.of("demo", settings(base, DEMO_GROUP, "demo", 1),
        "shell", settings(base, DEMO_GROUP, "shell", 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AwsFleets("demo", groups, clients));
    assertTrue(e.getMessage().contains(DEMO_GROUP), e.getMessage());
  }
}
