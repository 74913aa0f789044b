package io.berth.activities.fleet.aws;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsErrors;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.fleet.Fleet;
import io.berth.workflows.Labels;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * The fleet as an EC2 Auto Scaling group. Hosts are the group's instances, a slot's owner is the
 * instance tag {@code Owner} ({@code Owner-<index>} when an instance has several slots), and the
 * heartbeat token reaches the workspace through the instance agent ({@link InstanceAgent}).
 *
 * <p>Recycling keeps the instance: {@link #recycleSlot} tags {@code Owner=UNASSIGNED},
 * {@code WarmSpare=true} and {@code Recycle=<epoch ms>}. The agent watches its instance's tags
 * (instance metadata tags), restarts the template from a clean state when {@code Recycle} changes,
 * then deletes the {@code Recycle} tag. Until it does, the slot reports not alive, so the capacity
 * workflow does not admit the old process back into the pool.
 */
public final class AwsFleet implements Fleet {
  /** SetInstanceProtection takes at most 50 instance ids per call. */
  public static final int PROTECTION_BATCH = 50;
  static final String GROUP_TAG = "aws:autoscaling:groupName";
  private static final Logger log = LoggerFactory.getLogger(AwsFleet.class);
  private static final int EC2_RUNNING = 16;
  private static final int EC2_SHUTTING_DOWN = 32;
  private static final int EC2_TERMINATED = 48;
  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");

  private final AwsSettings settings;
  private final Ec2Client ec2;
  private final AutoScalingClient autoScaling;
  private final InstanceAgent agent;

  public AwsFleet(AwsSettings settings, AwsClients clients) {
    this.settings = settings;
    this.ec2 = clients.ec2();
    this.autoScaling = clients.autoScaling();
    this.agent = new InstanceAgent(settings.agentPort());
  }

  // ---- reads -----------------------------------------------------------------------------------

  @Override
  public FleetSnapshot describe() {
    AutoScalingGroup group = group();
    Map<String, Instance> byId = groupInstances();
    List<Host> hosts = new ArrayList<>();
    for (var member : group.instances()) {
      Host h = host(member, byId.get(member.instanceId()));
      if (h != null) {
        hosts.add(h);
      }
    }
    return new FleetSnapshot(group.desiredCapacity(), group.minSize(), group.maxSize(), List.copyOf(hosts));
  }

  @Override
  public String ownerOf(Slot slot) {
    checkSlot(slot);
    Instance i = instance(slot.hostId());
    return i == null ? null : TagValues.decode(tags(i).get(key("Owner", slot.index())));
  }

  private AutoScalingGroup group() {
    String name = settings.autoScalingGroup();
    return AwsErrors.call("DescribeAutoScalingGroups", () -> autoScaling
            .describeAutoScalingGroupsPaginator(b -> b.autoScalingGroupNames(name))
            .autoScalingGroups().stream()
            .filter(g -> g.autoScalingGroupName().equals(name))
            .findFirst())
        .orElseThrow(() -> AwsErrors.invalidInput("Auto Scaling group " + name + " not found"));
  }

  /**
   * One filtered, paged query for all of the group's instances. Asking by instance id instead
   * would fail as a whole while a just-launched id is not yet visible to EC2.
   */
  private Map<String, Instance> groupInstances() {
    Filter byGroup = Filter.builder().name("tag:" + GROUP_TAG).values(settings.autoScalingGroup()).build();
    return AwsErrors.call("DescribeInstances", () -> ec2
        .describeInstancesPaginator(b -> b.filters(byGroup).maxResults(1000))
        .reservations().stream()
        .flatMap(r -> r.instances().stream())
        .collect(Collectors.toMap(Instance::instanceId, Function.identity(), (a, b) -> b)));
  }

  /** The Auto Scaling group the instance was launched in (its {@value #GROUP_TAG} tag), null when EC2 does not know it. */
  public String groupOf(String hostId) {
    checkHost(hostId);
    Instance i = instance(hostId);
    return i == null ? null : tags(i).get(GROUP_TAG);
  }

  public AwsSettings settings() {
    return settings;
  }

  /** The instance, or null when EC2 does not know it. */
  private Instance instance(String id) {
    return AwsErrors.call("DescribeInstances", () -> ec2.describeInstances(b -> b.instanceIds(id))
            .reservations().stream().flatMap(r -> r.instances().stream()).findFirst().orElse(null),
        e -> "InvalidInstanceID.NotFound".equals(AwsErrors.code(e)), null);
  }

  private Host host(software.amazon.awssdk.services.autoscaling.model.Instance member, Instance instance) {
    String state = hostState(member.lifecycleStateAsString());
    if (state == null) {
      return null;
    }
    String id = member.instanceId();
    String address = instance == null ? null
        : "public".equals(settings.addressKind()) ? instance.publicIpAddress() : instance.privateIpAddress();
    if (address == null && "RUNNING".equals(state)) {
      // In service but EC2 has not shown it to us yet (or has no address of this kind): not routable.
      state = "PENDING";
    }
    Map<String, String> tags = instance == null ? Map.of() : tags(instance);
    boolean running = instance != null && (instance.state().code() & 0xFF) == EC2_RUNNING;
    String at = address;
    List<SlotStatus> slots = IntStream.range(0, settings.slotsPerHost())
        .mapToObj(i -> new SlotStatus(slot(id, i, at), TagValues.decode(tags.get(key("Owner", i))),
            running && !tags.containsKey(key("Recycle", i))))
        .toList();
    long launched = instance == null || instance.launchTime() == null ? 0 : instance.launchTime().toEpochMilli();
    return new Host(id, state, address, Boolean.TRUE.equals(member.protectedFromScaleIn()), launched, slots);
  }

  /**
   * Auto Scaling lifecycle states as Berth host states; null for instances that are gone.
   * Standby and detaching instances are out of service for good as far as Berth is concerned.
   */
  static String hostState(String lifecycle) {
    if (lifecycle == null) {
      return "PENDING";
    }
    if (lifecycle.equals("InService")) {
      return "RUNNING";
    }
    if (lifecycle.startsWith("Pending") || lifecycle.startsWith("Warmed") || lifecycle.equals("Quarantined")) {
      return "PENDING";
    }
    if (lifecycle.equals("Terminated") || lifecycle.equals("Detached")) {
      return null;
    }
    return "TERMINATING";
  }

  private Slot slot(String hostId, int index, String address) {
    return new Slot(Slot.idOf(hostId, index), hostId, index, address, settings.templatePort() + index,
        settings.template());
  }

  // ---- writes ----------------------------------------------------------------------------------

  @Override
  public void setDesiredCapacity(int desired) {
    AutoScalingGroup group = group();
    int clamped = Math.max(group.minSize(), Math.min(group.maxSize(), desired));
    log.info("group {}: desired {} -> {} (asked {})", settings.autoScalingGroup(), group.desiredCapacity(), clamped,
        desired);
    AwsErrors.run("SetDesiredCapacity", () -> autoScaling.setDesiredCapacity(b -> b
        .autoScalingGroupName(settings.autoScalingGroup())
        .desiredCapacity(clamped)
        .honorCooldown(false)));
  }

  @Override
  public void tagOwner(Slot slot, String owner) {
    checkSlot(slot);
    String value = TagValues.UNASSIGNED;
    if (owner != null) {
      if (!Labels.validKey(owner)) {
        throw AwsErrors.invalidInput("invalid user id");
      }
      value = TagValues.encode(owner);
      if (value == null) {
        throw AwsErrors.invalidInput("user id does not fit an EC2 tag value (256 chars once encoded)");
      }
    }
    // Clearing an owner on an instance that is gone is done; claiming one is a failure the saga undoes.
    createTags(slot.hostId(), owner == null, List.of(
        tag(key("Owner", slot.index()), value),
        tag(key("WarmSpare", slot.index()), String.valueOf(owner == null)),
        tag("Project", "berth"),
        tag("Role", "workspace")));
  }

  @Override
  public void recycleSlot(Slot slot) {
    checkSlot(slot);
    createTags(slot.hostId(), true, List.of(
        tag(key("Owner", slot.index()), TagValues.UNASSIGNED),
        tag(key("WarmSpare", slot.index()), "true"),
        tag(key("Recycle", slot.index()), String.valueOf(System.currentTimeMillis()))));
  }

  private void createTags(String hostId, boolean goneIsDone, List<Tag> tags) {
    AwsErrors.run("CreateTags", () -> ec2.createTags(b -> b.resources(hostId).tags(tags)),
        e -> goneIsDone && "InvalidInstanceID.NotFound".equals(AwsErrors.code(e)));
  }

  @Override
  public void setProtected(String hostId, boolean protect) {
    setProtected(List.of(hostId), protect);
  }

  /**
   * In calls of at most {@value #PROTECTION_BATCH} ids. Unprotecting tolerates instances that left
   * the group (the batch is retried id by id); protecting one that left is a failure.
   */
  public void setProtected(Collection<String> hostIds, boolean protect) {
    hostIds.forEach(this::checkHost);
    List<String> ids = List.copyOf(new LinkedHashSet<>(hostIds));
    for (int from = 0; from < ids.size(); from += PROTECTION_BATCH) {
      List<String> batch = ids.subList(from, Math.min(ids.size(), from + PROTECTION_BATCH));
      if (protect) {
        AwsErrors.run("SetInstanceProtection", () -> protection(batch, true));
        continue;
      }
      boolean someGone = AwsErrors.call("SetInstanceProtection", () -> {
        protection(batch, false);
        return false;
      }, AwsErrors::instanceGone, true);
      if (someGone && batch.size() > 1) {
        batch.forEach(id -> AwsErrors.run("SetInstanceProtection", () -> protection(List.of(id), false),
            AwsErrors::instanceGone));
      }
    }
  }

  private void protection(List<String> ids, boolean protect) {
    autoScaling.setInstanceProtection(b -> b
        .autoScalingGroupName(settings.autoScalingGroup())
        .instanceIds(ids)
        .protectedFromScaleIn(protect));
  }

  /** An instance already gone from the group counts as terminated. */
  @Override
  public void terminate(String hostId, boolean decrement) {
    checkHost(hostId);
    log.info("terminating {} (decrement {})", hostId, decrement);
    AwsErrors.run("TerminateInstanceInAutoScalingGroup", () -> autoScaling.terminateInstanceInAutoScalingGroup(b -> b
        .instanceId(hostId)
        .shouldDecrementDesiredCapacity(decrement)), AwsErrors::instanceGone);
  }

  // ---- credentials through the instance agent ------------------------------------------------

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    checkSlot(slot);
    if (!Labels.validKey(user) || heartbeatToken == null || heartbeatToken.isEmpty()) {
      throw AwsErrors.invalidInput("invalid user id or empty token");
    }
    InstanceAgent.Answer a = agent.put(slot.address(), slot.index(), user, heartbeatToken);
    if (a.ok()) {
      return;
    }
    if (a.status() >= 400 && a.status() < 500) {
      throw AwsErrors.invalidInput("agent on " + slot.hostId() + " refused the credentials: " + a.problem());
    }
    if (hostGone(slot.hostId())) {
      throw AwsErrors.invalidInput("instance " + slot.hostId() + " is gone");
    }
    throw agentUnavailable(slot, a);
  }

  /**
   * Best effort: the token is already void at the API once the session is deleted, and recycling
   * wipes the slot. An agent that cannot be reached is logged, not retried, so that a dead agent
   * cannot hold a teardown (which retries without limit) forever.
   */
  @Override
  public void revokeCredentials(Slot slot) {
    checkSlot(slot);
    if (slot.address() == null) {
      return;
    }
    InstanceAgent.Answer a = agent.delete(slot.address(), slot.index());
    if (!a.ok() && a.status() != 404) {
      log.warn("could not revoke credentials of slot {} on its agent: {}", slot.slotId(), a.problem());
    }
  }

  private static ApplicationFailure agentUnavailable(Slot slot, InstanceAgent.Answer a) {
    return ApplicationFailure.newFailure("agent on " + slot.hostId() + ": " + a.problem(), InstanceAgent.UNAVAILABLE);
  }

  private boolean hostGone(String hostId) {
    Instance i = instance(hostId);
    if (i == null) {
      return true;
    }
    int code = i.state().code() & 0xFF;
    return code == EC2_SHUTTING_DOWN || code == EC2_TERMINATED;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** {@code Owner} on one-slot instances, {@code Owner-<index>} when instances hold several. */
  private String key(String name, int index) {
    return settings.slotsPerHost() == 1 ? name : name + "-" + index;
  }

  private static Map<String, String> tags(Instance i) {
    return i.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value, (a, b) -> b));
  }

  private static Tag tag(String key, String value) {
    return Tag.builder().key(key).value(value).build();
  }

  private void checkHost(String hostId) {
    if (hostId == null || !INSTANCE_ID.matcher(hostId).matches()) {
      throw AwsErrors.invalidInput("not an EC2 instance id");
    }
  }

  private void checkSlot(Slot slot) {
    if (slot == null) {
      throw AwsErrors.invalidInput("no slot");
    }
    checkHost(slot.hostId());
    if (slot.index() < 0 || slot.index() >= settings.slotsPerHost()
        || !Slot.idOf(slot.hostId(), slot.index()).equals(slot.slotId())) {
      throw AwsErrors.invalidInput("slot does not belong to this fleet's layout");
    }
  }
}
