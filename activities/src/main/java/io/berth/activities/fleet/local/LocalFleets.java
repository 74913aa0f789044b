package io.berth.activities.fleet.local;

import io.berth.activities.fleet.Fleet;
import io.berth.activities.store.PortAllocator;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * The local fleet of several templates: a host group per template, each a {@link LocalFleet} with
 * its own desired capacity, bounds, slots per host and template process, so that a host runs only
 * one template's slots and a burst on one template never takes another's hosts. The groups share
 * the state directory, the port allocator, Redis and the host id sequence (ids are unique across
 * groups, {@link HostGroupStore}); the default template's group keeps its hosts where a fleet of
 * one template did. A call about a slot or a host goes to the group the host's record names.
 */
public final class LocalFleets implements Fleet, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalFleets.class);

  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final PortAllocator ports;
  private final String defaultTemplate;
  private final Map<String, LocalFleet> groups = new LinkedHashMap<>();

  /**
   * {@code configs}: one per template, each naming its template ({@link LocalFleetConfig#template()},
   * its name the pool's), all with the same state directory; {@code defaultTemplate} is one of them.
   */
  public LocalFleets(UnifiedJedis redis, RedisKeys keys, PortAllocator ports, String defaultTemplate,
                     List<LocalFleetConfig> configs) {
    this.redis = redis;
    this.keys = keys;
    this.ports = ports;
    this.defaultTemplate = defaultTemplate;
    for (LocalFleetConfig c : configs) {
      String name = c.template().name();
      if (!c.stateDir().equals(configs.get(0).stateDir())) {
        throw new IllegalArgumentException("the host groups of one fleet share its state directory");
      }
      if (groups.containsKey(name)) {
        throw new IllegalArgumentException("two host groups for template " + name);
      }
      groups.put(name, new LocalFleet(redis, keys, ports, c, new HostGroupStore(name, name.equals(defaultTemplate))));
    }
    if (!groups.containsKey(defaultTemplate)) {
      throw new IllegalArgumentException("no host group for the default template " + defaultTemplate);
    }
  }

  /**
   * Adopts what a previous worker left in every group, frees the ports of slots no group has any
   * more (once, for all groups: they share the allocator), then starts each group's reconciler.
   */
  public LocalFleets start() {
    Set<String> live = new HashSet<>();
    groups.values().forEach(g -> live.addAll(g.adopt()));
    int freed = ports.reclaimStale(live);
    if (freed > 0) {
      log.info("reclaimed {} stale port(s)", freed);
    }
    groups.values().forEach(LocalFleet::startBackground);
    warnOfUnofferedGroups();
    return this;
  }

  /**
   * Hosts of a template no longer offered keep running: they may hold users' workspaces, which
   * their workflows still tear down. Nothing launches more of them; the operator is told.
   */
  private void warnOfUnofferedGroups() {
    Path stateDir = groups.get(defaultTemplate).config().stateDir();
    for (Path dir : FleetLayout.groupDirs(stateDir)) {
      String name = dir.getFileName().toString();
      boolean offered = dir.getParent().equals(stateDir) || groups.containsKey(name) && !name.equals(defaultTemplate);
      int hosts = new FleetLayout(stateDir, dir).hostIds().size();
      if (!offered && hosts > 0) {
        log.warn("{} holds {} host(s) of template {}, which is no longer offered: nothing adopts them (they stop "
            + "with ./berth up's next start, or when killed)", dir, hosts, name);
      }
    }
  }

  /** The template's group, null when the fleet has none for it. */
  public LocalFleet group(String template) {
    return groups.get(template);
  }

  public Collection<LocalFleet> groups() {
    return groups.values();
  }

  /**
   * The group whose host this is, by the template its record names; the default's when there is no
   * record (every group answers a gone host alike); null for a template no longer offered, whose
   * hosts nothing here runs (only a workspace's teardown still asks about them).
   */
  private LocalFleet groupOfHost(String hostId) {
    FleetInput.requireHostId(hostId);
    String template = redis.hget(keys.instance(hostId), "template");
    return template == null ? groups.get(defaultTemplate) : groups.get(template);
  }

  private LocalFleet groupOf(Slot slot) {
    FleetInput.requireSlot(slot);
    return groupOfHost(slot.hostId());
  }

  // ---- Fleet ---------------------------------------------------------------------------------

  /** Every group's hosts; desired and bounds are the default template's group's. */
  @Override
  public FleetSnapshot describe() {
    List<Host> hosts = new ArrayList<>();
    FleetSnapshot byDefault = null;
    for (Map.Entry<String, LocalFleet> g : groups.entrySet()) {
      FleetSnapshot d = g.getValue().describe(); // each group read once: a read loads all its host records from Redis
      hosts.addAll(d.hosts());
      if (g.getKey().equals(defaultTemplate)) {
        byDefault = d;
      }
    }
    return new FleetSnapshot(byDefault.desired(), byDefault.min(), byDefault.max(), hosts);
  }

  /** The template's group only; a template without a group has no hosts. */
  @Override
  public FleetSnapshot describe(String template) {
    LocalFleet g = groups.get(template);
    return g == null ? new FleetSnapshot(0, 0, 0, List.of()) : g.describe();
  }

  @Override
  public void setDesiredCapacity(int desired) {
    groups.get(defaultTemplate).setDesiredCapacity(desired);
  }

  @Override
  public void setDesiredCapacity(String template, int desired) {
    LocalFleet g = groups.get(template);
    if (g == null) {
      throw FleetInput.invalid("no host group for template " + template + " (" + String.join(", ", groups.keySet())
          + ")");
    }
    g.setDesiredCapacity(desired);
  }

  // A host of a template no longer offered: what would give it a workspace fails as for a gone
  // host, what a teardown asks of it is done (nothing here runs it any more).

  @Override
  public void tagOwner(Slot slot, String owner) {
    LocalFleet g = groupOf(slot);
    if (g != null) {
      g.tagOwner(slot, owner);
    } else if (owner != null) {
      throw FleetInput.hostGone(slot.hostId());
    }
  }

  @Override
  public String ownerOf(Slot slot) {
    LocalFleet g = groupOf(slot);
    return (g != null ? g : groups.get(defaultTemplate)).ownerOf(slot); // the record, whichever group
  }

  @Override
  public void setProtected(String hostId, boolean protect) {
    LocalFleet g = groupOfHost(hostId);
    if (g != null) {
      g.setProtected(hostId, protect);
    } else if (protect) {
      throw FleetInput.hostGone(hostId);
    }
  }

  @Override
  public void recycleSlot(Slot slot) {
    LocalFleet g = groupOf(slot);
    if (g != null) {
      g.recycleSlot(slot);
    }
  }

  @Override
  public void terminate(String hostId, boolean decrement) {
    LocalFleet g = groupOfHost(hostId);
    if (g != null) {
      g.terminate(hostId, decrement);
    }
  }

  @Override
  public void deliverCredentials(Slot slot, String user, String heartbeatToken) {
    LocalFleet g = groupOf(slot);
    if (g == null) {
      throw FleetInput.hostGone(slot.hostId());
    }
    g.deliverCredentials(slot, user, heartbeatToken);
  }

  @Override
  public void revokeCredentials(Slot slot) {
    LocalFleet g = groupOf(slot);
    if (g != null) {
      g.revokeCredentials(slot);
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  @Override
  public void close() {
    shutdownAll();
  }

  /** Every group's processes killed and hosts forgotten ({@link LocalFleet#shutdownAll()}). */
  public void shutdownAll() {
    groups.values().forEach(LocalFleet::shutdownAll);
  }

  /** Every group's reconciler stopped, its processes left for the next worker to adopt. */
  public void detach() {
    groups.values().forEach(LocalFleet::detach);
  }
}
