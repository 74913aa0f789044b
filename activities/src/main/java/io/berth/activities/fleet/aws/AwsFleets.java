package io.berth.activities.fleet.aws;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsErrors;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.fleet.Fleet;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fleet of several templates on AWS: an Auto Scaling group per template, each an
 * {@link AwsFleet} with its own settings (group, slots per host, template name), on the same
 * clients, zone and agent port. A slot's call goes to its template's group ({@link Slot#template()});
 * a host's call to the group the instance was launched in ({@code aws:autoscaling:groupName}).
 */
public final class AwsFleets implements Fleet {
  private final String defaultTemplate;
  private final Map<String, AwsFleet> byTemplate = new LinkedHashMap<>();
  private final Map<String, AwsFleet> byGroup = new LinkedHashMap<>();

  /** {@code settings}: template → its group's settings (each naming the template); one per group. */
  public AwsFleets(String defaultTemplate, Map<String, AwsSettings> settings, AwsClients clients) {
    this.defaultTemplate = defaultTemplate;
    Set<String> groups = new HashSet<>();
    settings.forEach((template, s) -> {
      if (!s.template().equals(template)) {
        throw new IllegalArgumentException("the settings of template " + template + " name " + s.template());
      }
      if (!groups.add(s.autoScalingGroup())) {
        throw new IllegalArgumentException("Auto Scaling group " + s.autoScalingGroup()
            + " is given to two templates: each template needs its own group");
      }
      AwsFleet f = new AwsFleet(s, clients);
      byTemplate.put(template, f);
      byGroup.put(s.autoScalingGroup(), f);
    });
    if (!byTemplate.containsKey(defaultTemplate)) {
      throw new IllegalArgumentException("no Auto Scaling group for the default template " + defaultTemplate);
    }
  }

  private AwsFleet defaultGroup() {
    return byTemplate.get(defaultTemplate);
  }

  private AwsFleet groupOf(Slot slot) {
    if (slot == null) {
      throw AwsErrors.invalidInput("no slot");
    }
    AwsFleet f = byTemplate.get(slot.template());
    if (f == null) {
      throw AwsErrors.invalidInput("no Auto Scaling group for template " + slot.template());
    }
    return f;
  }

  /** The group the instance was launched in; the default's when EC2 no longer knows it (gone is gone in any group). */
  private AwsFleet groupOfHost(String hostId) {
    String group = defaultGroup().groupOf(hostId);
    AwsFleet f = group == null ? null : byGroup.get(group);
    return f != null ? f : defaultGroup();
  }

  // ---- Fleet ---------------------------------------------------------------------------------

  /** Every group's hosts; desired and bounds are the default template's group's. */
  @Override
  public FleetSnapshot describe() {
    FleetSnapshot d = defaultGroup().describe();
    List<Host> hosts = new ArrayList<>(d.hosts());
    byTemplate.forEach((t, f) -> {
      if (!t.equals(defaultTemplate)) {
        hosts.addAll(f.describe().hosts());
      }
    });
    return new FleetSnapshot(d.desired(), d.min(), d.max(), hosts);
  }

  /** The template's group only; a template without one has no hosts. */
  @Override
  public FleetSnapshot describe(String template) {
    AwsFleet f = byTemplate.get(template);
    return f == null ? new FleetSnapshot(0, 0, 0, List.of()) : f.describe();
  }

  @Override
  public void setDesiredCapacity(int desired) {
    defaultGroup().setDesiredCapacity(desired);
  }

  @Override
  public void setDesiredCapacity(String template, int desired) {
    AwsFleet f = byTemplate.get(template);
    if (f == null) {
      throw AwsErrors.invalidInput("no Auto Scaling group for template " + template + " ("
          + String.join(", ", byTemplate.keySet()) + ")");
    }
    f.setDesiredCapacity(desired);
  }

  @Override
  public void tagOwner(Slot slot, String owner) {
    groupOf(slot).tagOwner(slot, owner);
  }

  @Override
  public String ownerOf(Slot slot) {
    return groupOf(slot).ownerOf(slot);
  }

  @Override
  public void setProtected(String hostId, boolean protect) {
    groupOfHost(hostId).setProtected(hostId, protect);
  }

  @Override
  public void recycleSlot(Slot slot) {
    groupOf(slot).recycleSlot(slot);
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
    groupOfHost(hostId).terminate(hostId, decrement);
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    groupOf(slot).deliverCredentials(slot, user, heartbeatToken);
  }

  @Override
  public void revokeCredentials(Slot slot) {
    groupOf(slot).revokeCredentials(slot);
  }
}
