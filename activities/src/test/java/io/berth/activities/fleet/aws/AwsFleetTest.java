package io.berth.activities.fleet.aws;

import static io.berth.activities.aws.TestAws.GROUP;
import static io.berth.activities.aws.TestAws.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.aws.TestAws;
import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.testkit.FakeAws;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** AwsFleet against FakeAws, on the wire: EC2 and Auto Scaling query protocols. */
class AwsFleetTest {
  private final FakeAws fake = FakeAws.start();
  private AwsClients clients;

  @AfterEach
  void stop() {
    if (clients != null) {
      clients.close();
    }
    fake.close();
  }

  private AwsFleet fleet(AwsSettings settings) {
    clients = TestAws.clients(settings);
    return new AwsFleet(settings, clients);
  }

  private AwsFleet fleet() {
    return fleet(TestAws.settings(fake));
  }

  private static Slot slotOf(FleetSnapshot s, int host, int index) {
    return s.hosts().get(host).slots().get(index).slot();
  }

  /** Tag parameters of one CreateTags call as key → value. */
  private static Map<String, String> tagsSent(FakeAws.Call call) {
    Map<String, String> tags = new HashMap<>();
    for (int i = 1; call.params().containsKey("Tag." + i + ".Key"); i++) {
      tags.put(call.params().get("Tag." + i + ".Key"), call.params().get("Tag." + i + ".Value"));
    }
    return tags;
  }

  // ---- describe --------------------------------------------------------------------------------

  @Test
  void describeJoinsTheGroupWithItsInstancesAcrossPages() {
    fake.group(GROUP, 0, 20, 12).pageSize(5);

    FleetSnapshot s = fleet().describe();

    assertEquals(12, s.desired());
    assertEquals(0, s.min());
    assertEquals(20, s.max());
    assertEquals(12, s.hosts().size());
    List<FakeAws.Call> pages = fake.calls("DescribeInstances");
    assertEquals(3, pages.size(), "12 instances at 5 per page");
    assertNull(pages.get(0).params().get("NextToken"));
    assertEquals("5", pages.get(1).params().get("NextToken"));
    assertEquals("10", pages.get(2).params().get("NextToken"));
    assertEquals("tag:aws:autoscaling:groupName", pages.get(0).params().get("Filter.1.Name"));
    assertEquals(GROUP, pages.get(0).params().get("Filter.1.Value.1"));
    for (FakeAws.Instance i : fake.members(GROUP)) {
      Host h = s.hosts().stream().filter(x -> x.hostId().equals(i.id())).findFirst().orElseThrow();
      assertEquals("RUNNING", h.state());
      assertEquals(i.privateAddress(), h.address());
      assertTrue(h.address().startsWith("127."), h.address());
      SlotStatus slot = h.slots().get(0);
      assertEquals(new Slot(i.id() + "/0", i.id(), 0, i.privateAddress(), 8080, "demo"), slot.slot());
      assertNull(slot.owner());
      assertTrue(slot.alive());
    }
  }

  @Test
  void lifecycleStatesProtectionAndOwnersAreReported() {
    fake.group(GROUP, 0, 5, 3);
    List<FakeAws.Instance> m = fake.members(GROUP);
    fake.setLifecycle(m.get(1).id(), "Terminating:Wait", "shutting-down");
    fake.tag(m.get(0).id(), "Owner", "alice@example.com");
    fake.tag(m.get(2).id(), "Owner", "UNASSIGNED");
    AwsFleet fleet = fleet();
    fleet.setProtected(m.get(0).id(), true);

    FleetSnapshot s = fleet.describe();

    Host owned = s.hosts().get(0);
    assertEquals("alice@example.com", owned.slots().get(0).owner());
    assertTrue(owned.scaleInProtected());
    assertTrue(owned.launchedAtMillis() > 0);
    Host leaving = s.hosts().get(1);
    assertEquals("TERMINATING", leaving.state());
    assertFalse(leaving.slots().get(0).alive(), "not EC2 running");
    assertNull(s.hosts().get(2).slots().get(0).owner(), "UNASSIGNED reads as no owner");
    assertFalse(s.hosts().get(2).scaleInProtected());
  }

  @Test
  void launchingInstancesArePendingAndNotAlive() {
    fake.group(GROUP, 0, 5, 0).launchDelay(Duration.ofHours(1));
    AwsFleet fleet = fleet();
    fleet.setDesiredCapacity(2);

    FleetSnapshot s = fleet.describe();

    assertEquals(2, s.hosts().size());
    assertTrue(s.hosts().stream().allMatch(h -> "PENDING".equals(h.state())));
    assertTrue(s.hosts().stream().noneMatch(h -> h.slots().get(0).alive()));
  }

  @Test
  void severalSlotsPerInstanceUseIndexedTagsAndPorts() {
    fake.group(GROUP, 0, 5, 1);
    String id = fake.members(GROUP).get(0).id();
    fake.tag(id, "Owner-1", "bob");
    AwsFleet fleet = fleet(TestAws.settings(fake).withSlots(3, 9000, 9100).withAddressKind("public"));

    Host h = fleet.describe().hosts().get(0);

    assertEquals(fake.instance(id).publicAddress(), h.address());
    assertEquals(List.of(9000, 9001, 9002), h.slots().stream().map(s -> s.slot().port()).toList());
    assertEquals(List.of(id + "/0", id + "/1", id + "/2"), h.slots().stream().map(s -> s.slot().slotId()).toList());
    assertNull(h.slots().get(0).owner());
    assertEquals("bob", h.slots().get(1).owner());

    fleet.tagOwner(h.slots().get(2).slot(), "carol");
    assertEquals("carol", fake.instance(id).tags().get("Owner-2"));
    assertEquals("false", fake.instance(id).tags().get("WarmSpare-2"));
  }

  @Test
  void theSimulatedGroupLaunchesOnLoopbackCallsBackAndGoesInServiceAfterItsDelay() {
    List<FakeAws.Instance> launched = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> terminated = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> restarted = new java.util.concurrent.CopyOnWriteArrayList<>();
    fake.group(GROUP, 0, 5, 0).launchDelay(Duration.ofMillis(300))
        .onLaunch(launched::add)
        .onTerminate(i -> terminated.add(i.id()))
        .onTags(i -> { // the instance agent: restart the template, then clear Recycle
          if (i.tags().containsKey("Recycle")) {
            restarted.add(i.id());
            fake.untag(i.id(), "Recycle");
          }
        });
    AwsFleet fleet = fleet();

    fleet.setDesiredCapacity(2);

    assertEquals(2, launched.size());
    assertTrue(launched.stream().allMatch(i -> i.privateAddress().matches("127\\.0\\.\\d+\\.\\d+")));
    FleetSnapshot ready = io.berth.testkit.Await.value("instances in service", Duration.ofSeconds(10), () -> {
      FleetSnapshot s = fleet.describe();
      return s.hosts().stream().allMatch(Host::running) ? s : null;
    });
    Slot slot = slotOf(ready, 0, 0);
    fleet.recycleSlot(slot);
    assertEquals(List.of(slot.hostId()), restarted);
    assertTrue(fleet.describe().hosts().get(0).slots().get(0).alive());
    fleet.terminate(slot.hostId(), true);
    assertEquals(List.of(slot.hostId()), terminated);
  }

  // ---- capacity --------------------------------------------------------------------------------

  @Test
  void desiredCapacityIsClampedToTheGroupBoundsAndSentWithoutCooldown() {
    fake.group(GROUP, 1, 4, 1);
    AwsFleet fleet = fleet();

    fleet.setDesiredCapacity(10);

    FakeAws.Call call = fake.calls("SetDesiredCapacity").get(0);
    assertEquals(GROUP, call.params().get("AutoScalingGroupName"));
    assertEquals("4", call.params().get("DesiredCapacity"));
    assertEquals("false", call.params().get("HonorCooldown"));
    assertEquals(4, fake.desired(GROUP));
    assertEquals(4, fake.members(GROUP).size(), "the group launched up to desired");

    fleet.setDesiredCapacity(0);
    assertEquals("1", fake.calls("SetDesiredCapacity").get(1).params().get("DesiredCapacity"));
    assertEquals(1, fake.members(GROUP).size());
  }

  @Test
  void protectingOneHundredTwentyInstancesTakesThreeCallsOfAtMostFifty() {
    fake.group(GROUP, 0, 200, 120);
    List<String> ids = fake.members(GROUP).stream().map(FakeAws.Instance::id).toList();

    fleet().setProtected(ids, true);

    List<FakeAws.Call> calls = fake.calls("SetInstanceProtection");
    assertEquals(3, calls.size());
    List<Integer> sizes = calls.stream()
        .map(c -> (int) c.params().keySet().stream().filter(k -> k.startsWith("InstanceIds.member.")).count())
        .toList();
    assertEquals(List.of(50, 50, 20), sizes);
    assertTrue(calls.stream().allMatch(c -> "true".equals(c.params().get("ProtectedFromScaleIn"))));
    assertTrue(fake.members(GROUP).stream().allMatch(FakeAws.Instance::protectedFromScaleIn));
  }

  @Test
  void unprotectingToleratesInstancesThatLeftTheGroup() {
    fake.group(GROUP, 0, 5, 3);
    List<String> ids = fake.members(GROUP).stream().map(FakeAws.Instance::id).toList();
    AwsFleet fleet = fleet();
    fleet.setProtected(ids, true);
    fake.vanish(ids.get(1));

    fleet.setProtected(ids, false);

    assertFalse(fake.instance(ids.get(0)).protectedFromScaleIn());
    assertFalse(fake.instance(ids.get(2)).protectedFromScaleIn());
    fails("InvalidInput", true, () -> fleet.setProtected(ids.get(1), true));
  }

  // ---- tags ------------------------------------------------------------------------------------

  @Test
  void tagOwnerWritesOwnerWarmSpareProjectAndRoleAndUntagReadsBack() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();
    Slot slot = slotOf(fleet.describe(), 0, 0);

    fleet.tagOwner(slot, "alice@example.com");

    FakeAws.Call call = fake.calls("CreateTags").get(0);
    assertEquals(slot.hostId(), call.params().get("ResourceId.1"));
    assertEquals(Map.of("Owner", "alice@example.com", "WarmSpare", "false", "Project", "berth", "Role", "workspace"),
        tagsSent(call));
    assertEquals("alice@example.com", fleet.ownerOf(slot));

    new FleetActivitiesImpl(fleet).untagOwner("req-1", slot, "mallory");
    assertEquals("alice@example.com", fleet.ownerOf(slot), "untag only undoes its own owner");

    new FleetActivitiesImpl(fleet).untagOwner("req-1", slot, "alice@example.com");
    assertNull(fleet.ownerOf(slot));
    assertEquals("UNASSIGNED", fake.instance(slot.hostId()).tags().get("Owner"));
    assertEquals("true", fake.instance(slot.hostId()).tags().get("WarmSpare"));
  }

  @Test
  void userIdsOutsideTheTagAlphabetAreEncodedAndComeBackExactly() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();
    Slot slot = slotOf(fleet.describe(), 0, 0);
    for (String user : List.of("o'brien#1 {x}=\"y\"", "UNASSIGNED", "a=3D", "  spaced out ", "~!$%^&*()[]|\\;,<>?`")) {
      fleet.tagOwner(slot, user); // the fake refuses values outside AWS's tag alphabet, as EC2 does
      assertEquals(user, fleet.ownerOf(slot));
      assertEquals(user, fleet.describe().hosts().get(0).slots().get(0).owner());
    }
    assertEquals("=55NASSIGNED", TagValues.encode("UNASSIGNED"));
  }

  @Test
  void invalidUsersAndForeignSlotsAreRejectedWithoutACall() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();
    Slot slot = slotOf(fleet.describe(), 0, 0);
    int before = fake.calls().size();

    fails("InvalidInput", true, () -> fleet.tagOwner(slot, "tab\tuser"));
    fails("InvalidInput", true, () -> fleet.tagOwner(slot, "x".repeat(129)));
    fails("InvalidInput", true, () -> fleet.tagOwner(slot, "%".repeat(100))); // 300 chars once encoded
    fails("InvalidInput", true, () -> fleet.tagOwner(new Slot("host-1/0", "host-1", 0, "127.0.0.2", 8080, "demo"), "a"));
    fails("InvalidInput", true, () -> fleet.tagOwner(new Slot(slot.hostId() + "/1", slot.hostId(), 1, null, 8081, "demo"), "a"));
    fails("InvalidInput", true, () -> fleet.terminate("i-1; rm -rf", true));

    assertEquals(before, fake.calls().size());
  }

  @Test
  void recycleTagsTheSlotAndItIsNotAliveUntilTheAgentClearsRecycle() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();
    Slot slot = slotOf(fleet.describe(), 0, 0);
    fleet.tagOwner(slot, "alice");
    long before = System.currentTimeMillis();

    fleet.recycleSlot(slot);

    Map<String, String> tags = fake.instance(slot.hostId()).tags();
    assertEquals("UNASSIGNED", tags.get("Owner"));
    assertEquals("true", tags.get("WarmSpare"));
    assertTrue(Long.parseLong(tags.get("Recycle")) >= before);
    SlotStatus recycling = fleet.describe().hosts().get(0).slots().get(0);
    assertNull(recycling.owner());
    assertFalse(recycling.alive(), "the old process must not rejoin the pool");

    fake.untag(slot.hostId(), "Recycle"); // what the agent does once the template restarted
    assertTrue(fleet.describe().hosts().get(0).slots().get(0).alive());
  }

  // ---- terminate -------------------------------------------------------------------------------

  @Test
  void terminateWithDecrementLowersDesiredAndWithoutItTheGroupReplaces() {
    fake.group(GROUP, 0, 5, 3);
    AwsFleet fleet = fleet();
    List<String> ids = fake.members(GROUP).stream().map(FakeAws.Instance::id).toList();

    fleet.terminate(ids.get(0), true);

    FakeAws.Call call = fake.calls("TerminateInstanceInAutoScalingGroup").get(0);
    assertEquals(ids.get(0), call.params().get("InstanceId"));
    assertEquals("true", call.params().get("ShouldDecrementDesiredCapacity"));
    assertEquals(2, fake.desired(GROUP));
    assertEquals("terminated", fake.instance(ids.get(0)).ec2State());
    FleetSnapshot s = fleet.describe();
    assertEquals(2, s.desired());
    assertEquals(List.of(ids.get(1), ids.get(2)), s.hosts().stream().map(Host::hostId).toList());

    fleet.terminate(ids.get(1), false);

    assertEquals(2, fake.desired(GROUP));
    List<String> now = fake.members(GROUP).stream().map(FakeAws.Instance::id).toList();
    assertEquals(2, now.size());
    assertFalse(now.contains(ids.get(1)));
    assertNotEquals(ids.get(2), now.get(1), "a replacement was launched");
  }

  @Test
  void terminatingAnInstanceThatIsAlreadyGoneSucceeds() {
    fake.group(GROUP, 0, 5, 2);
    AwsFleet fleet = fleet();
    String id = fake.members(GROUP).get(0).id();
    fleet.terminate(id, true);

    fleet.terminate(id, true); // retried after the first answer was lost
    fake.vanish(fake.members(GROUP).get(0).id());
    fleet.terminate("i-00000000deadbeef", false);

    assertEquals(3, fake.calls("TerminateInstanceInAutoScalingGroup").size());
    assertEquals(1, fake.desired(GROUP), "decremented once");
  }

  @Test
  void clearingTagsOfAVanishedInstanceIsDoneButClaimingItFails() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();
    Slot slot = slotOf(fleet.describe(), 0, 0);
    fake.vanish(slot.hostId());

    fleet.tagOwner(slot, null);
    fleet.recycleSlot(slot);
    assertNull(fleet.ownerOf(slot));
    fails("InvalidInput", true, () -> fleet.tagOwner(slot, "alice"));
  }

  // ---- error classification ------------------------------------------------------------------

  @Test
  void throttlingBeyondTheSdksTwoAttemptsIsRetryable() {
    fake.group(GROUP, 0, 5, 1).throttleNext("DescribeAutoScalingGroups", 2);
    AwsFleet fleet = fleet();

    fails("AwsRetryable", false, fleet::describe);
    assertEquals(2, fake.calls("DescribeAutoScalingGroups").size(), "the SDK tried twice");

    fake.throttleNext("DescribeInstances", 2); // EC2 throttles with 503 RequestLimitExceeded
    fails("AwsRetryable", false, fleet::describe);

    fake.throttleNext("DescribeAutoScalingGroups", 1);
    assertEquals(1, fleet.describe().hosts().size(), "one throttle is absorbed by the SDK's retry");
  }

  @Test
  void serverErrorsAreRetryableAndValidationErrorsAreNot() {
    fake.group(GROUP, 0, 5, 1);
    AwsFleet fleet = fleet();

    fake.failNext("SetDesiredCapacity", 2, 500, "InternalFailure", "boom");
    fails("AwsRetryable", false, () -> fleet.setDesiredCapacity(2));

    fake.failNext("SetDesiredCapacity", 1, 400, "ValidationError", "bad");
    fails("InvalidInput", true, () -> fleet.setDesiredCapacity(2));
    assertEquals(3, fake.calls("SetDesiredCapacity").size(), "the SDK does not retry a validation error");

    fake.failNext("CreateTags", 1, 400, "InvalidParameterValue", "bad");
    Slot slot = slotOf(fleet.describe(), 0, 0);
    fails("InvalidInput", true, () -> fleet.tagOwner(slot, "alice"));
  }

  @Test
  void aMissingGroupIsAConfigurationError() {
    fake.group("other", 0, 5, 1);
    AwsFleet fleet = fleet();

    fails("InvalidInput", true, fleet::describe);
  }
}
