package io.berth.activities.fleet.aws;

import static io.berth.activities.aws.TestAws.GROUP;
import static io.berth.activities.aws.TestAws.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.aws.TestAws;
import io.berth.testkit.FakeAgent;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Heartbeat tokens travel to the instance agent over HTTP on the instance's (loopback) address. */
class InstanceAgentCredentialsTest {
  private static final String TOKEN = "hb-token-3f9a7c";
  private final FakeAws fake = FakeAws.start();
  private final int agentPort = FreePorts.next();
  private AwsClients clients;
  private AwsFleet fleet;
  private Slot slot;
  private FakeAgent agent;

  @BeforeEach
  void start() {
    fake.group(GROUP, 0, 5, 1);
    AwsSettings settings = TestAws.settings(fake).withSlots(1, 8080, agentPort);
    clients = TestAws.clients(settings);
    fleet = new AwsFleet(settings, clients);
    slot = fleet.describe().hosts().get(0).slots().get(0).slot();
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    clients.close();
    fake.close();
  }

  @Test
  void deliverPutsUserAndTokenAndRevokeDeletesThem() {
    agent = FakeAgent.start(slot.address(), agentPort);
    String user = "o'brien \"the\" \\ admin";

    fleet.deliverCredentials(slot, user, TOKEN);

    assertEquals(new FakeAgent.Credentials(user, TOKEN), agent.credentials(0));
    assertEquals("PUT", agent.requests().get(0).method());

    fleet.revokeCredentials(slot);
    fleet.revokeCredentials(slot); // nothing left: the agent answers 404, which is done

    assertNull(agent.credentials(0));
    assertEquals("DELETE", agent.requests().get(1).method());
    assertEquals("slot=0", agent.requests().get(1).query());
    assertFalse(fake.instance(slot.hostId()).tags().values().stream().anyMatch(v -> v.contains(TOKEN)),
        "the token is never a tag");
  }

  @Test
  void anUnreachableAgentOnARunningInstanceIsRetryableForDeliveryAndSkippedOnRevoke() {
    ApplicationFailure f = fails(InstanceAgent.UNAVAILABLE, false, () -> fleet.deliverCredentials(slot, "alice", TOKEN));
    assertFalse(f.getOriginalMessage().contains(TOKEN));

    fleet.revokeCredentials(slot); // best effort: a dead agent must not hold a teardown forever
  }

  @Test
  void deliveringToAnInstanceThatIsGoneFailsForGood() {
    fleet.terminate(slot.hostId(), true);
    fails("InvalidInput", true, () -> fleet.deliverCredentials(slot, "alice", TOKEN));

    fake.vanish(slot.hostId());
    fails("InvalidInput", true, () -> fleet.deliverCredentials(slot, "alice", TOKEN));
    fleet.revokeCredentials(slot);
  }

  @Test
  void onlyIpv4AddressesAreContacted() {
    Slot odd = new Slot(slot.slotId(), slot.hostId(), 0, "evil.example.com/x?", 8080, "demo");
    fails("InvalidInput", true, () -> fleet.deliverCredentials(odd, "alice", TOKEN));
    fails("InvalidInput", true, () -> fleet.deliverCredentials(slot, "alice", ""));
  }
}
