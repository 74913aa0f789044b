package io.berth.activities.fleet.local;

import io.berth.workflows.Labels;
import io.berth.workflows.model.Slot;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a crashed or earlier run left: hosts whose records say they run (adopted, or finished off),
 * host directories Redis lost the record of (recorded again from their files, or killed as
 * orphans), processes started but never recorded (killed), ports of slots that are gone (freed).
 * Everything but {@link #clearPreviousRun} runs under the fleet's lock.
 */
final class FleetRecovery {
  private static final Logger log = LoggerFactory.getLogger(FleetRecovery.class);

  private final HostRegistry registry;
  private final FleetLayout layout;
  private final SlotPorts ports;
  private final SlotProcesses processes;

  FleetRecovery(HostRegistry registry, FleetLayout layout, SlotPorts ports, SlotProcesses processes) {
    this.registry = registry;
    this.layout = layout;
    this.ports = ports;
    this.processes = processes;
  }

  /**
   * Before a fresh start with an embedded Temporal, which kept none of the previous run's
   * workflows: kills every workspace process a previous run under {@code stateDir} left (found by
   * the slot directory in its environment) and deletes its host directories, so that nothing of
   * it is adopted as a host. Users' own directories stay. Returns how many processes were killed.
   */
  static int clearPreviousRun(Path stateDir) {
    int killed = 0;
    for (Path dir : FleetLayout.groupDirs(stateDir)) {
      FleetLayout layout = new FleetLayout(stateDir, dir);
      List<SlotProcess> left = SlotProcess.strays(layout.fleetDir(), List.of());
      if (!left.isEmpty() && !SlotProcesses.killAll(left)) {
        log.warn("some workspace processes of the previous run survived");
      }
      layout.hostIds().forEach(layout::deleteHost);
      killed += left.size();
    }
    return killed;
  }

  /**
   * After a restart: RUNNING hosts with a live process are adopted as they are (a slot whose
   * process died shows as not alive and the capacity workflow recycles it); hosts caught
   * mid-launch or mid-termination, or with nothing alive, are marked TERMINATING without decrement
   * and handed to {@code finishOff}, so the reconciler replaces them. Directories with no host
   * record are orphans: their processes go.
   */
  void adopt(Consumer<HostState> finishOff) {
    int freed = ports.reclaimStale(adoptHosts(finishOff));
    if (freed > 0) {
      log.info("reclaimed {} stale port(s)", freed);
    }
  }

  /**
   * {@link #adopt} but for the ports: returns the slot ids of the adopted hosts. Several groups
   * share the port allocator, so ports are reclaimed once for all of them ({@code LocalFleets}).
   */
  Set<String> adoptHosts(Consumer<HostState> finishOff) {
    recoverUnrecorded();
    Set<String> liveOwners = new HashSet<>();
    for (HostState h : registry.loadAll()) {
      boolean anyAlive = h.slots().stream().anyMatch(SlotState::alive);
      if (h.template() != null && !h.template().equals(registry.template())) {
        // The default template changed: its directory and records now belong to another template's group.
        log.warn("{} runs template {}, not this group's {}: terminating it", h.id(), h.template(),
            registry.template());
        registry.beginTermination(h.id(), false);
        finishOff.accept(h);
      } else if (h.running() && anyAlive) {
        h.slots().forEach(s -> {
          String slotId = Slot.idOf(h.id(), s.index());
          liveOwners.add(slotId);
          if (s.alive()) {
            processes.adopt(slotId, s.process());
          }
        });
        log.info("adopted {}", h.id());
      } else {
        log.info("{} was {} with {} live process(es) at restart: terminating it", h.id(), h.state(),
            anyAlive ? "some" : "no");
        registry.beginTermination(h.id(), false);
        finishOff.accept(h);
      }
    }
    killStrays();
    return liveOwners;
  }

  /**
   * A previous worker killed between starting a slot's process and recording it (pid file, host
   * record) left a process nobody knows: found by the slot directory in its environment, killed.
   */
  void killStrays() {
    List<SlotProcess> strays = SlotProcess.strays(layout.fleetDir(), processes.tracked());
    if (!strays.isEmpty()) {
      log.warn("killing {} workspace process(es) no host records (a worker died while starting them): {}",
          strays.size(), strays.stream().map(SlotProcess::pid).toList());
      SlotProcesses.killAll(strays);
    }
  }

  /**
   * Host directories that Redis has no record of. When Redis lost its data, a host whose directory
   * describes it and whose processes still run is recorded again: RUNNING, its ports, whose
   * directory each process runs on, its owners (from the owner files) and scale-in protection when
   * a slot is owned; the host sequence moves
   * past it. Any other directory is an orphan: its processes are killed and it goes. Returns how
   * many hosts were recorded again.
   */
  int recoverUnrecorded() {
    Set<String> known = new HashSet<>(registry.ids());
    int recovered = 0;
    long highest = 0;
    for (String hostId : layout.hostIds()) {
      if (known.contains(hostId)) {
        continue;
      }
      Map<String, String> record = recordFromDisk(hostId);
      if (record == null) {
        log.info("{} has a directory but no record: killing what it left", hostId);
        SlotProcesses.killAll(layout.pidFilesOf(hostId).values());
        layout.deleteHost(hostId);
        continue;
      }
      registry.recordAgain(hostId, record);
      for (int i = 0; i < HostRegistry.parseInt(record.get("slots")); i++) {
        int port = HostRegistry.parseInt(record.get("port." + i));
        if (port > 0 && !ports.claim(port, Slot.idOf(hostId, i))) {
          log.warn("port {} of recovered {} is recorded for another owner", port, Slot.idOf(hostId, i));
        }
      }
      recovered++;
      highest = Math.max(highest, HostRegistry.parseLong(hostId.substring(2)));
      log.warn("{} was running without a record (Redis lost its data?): recorded it again from its directory",
          hostId);
    }
    if (recovered > 0) {
      registry.raiseSequenceTo(highest);
    }
    return recovered;
  }

  /** The record a host directory describes, or null when it is incomplete or nothing of it runs. */
  Map<String, String> recordFromDisk(String hostId) {
    String[] host = layout.readHostFile(hostId);
    if (host.length != 3 || !host[0].matches("[0-9]{1,18}") || !host[1].matches("[0-9]{1,2}")
        || !Labels.validLabel(host[2])) {
      return null;
    }
    int slots = Integer.parseInt(host[1]);
    Map<String, String> record = new LinkedHashMap<>();
    record.put("state", HostState.RUNNING);
    record.put("address", LocalFleet.ADDRESS);
    record.put("launchedAt", host[0]);
    record.put("slots", host[1]);
    record.put("template", host[2]);
    boolean anyAlive = false;
    boolean owned = false;
    for (int i = 0; i < slots; i++) {
      String[] pid = layout.readPidFile(hostId, i);
      if (pid.length < 3 || pid.length > 4 || !pid[0].matches("[0-9]{1,10}") || !pid[1].matches("[0-9]{1,18}")
          || !pid[2].matches("[0-9]{1,5}") || pid.length == 4 && !Labels.validLabel(pid[3])) {
        return null;
      }
      if (pid.length == 4) {
        record.put("user." + i, pid[3]);
      }
      anyAlive |= new SlotProcess(Long.parseLong(pid[0]), Long.parseLong(pid[1])).alive();
      record.put("pid." + i, pid[0]);
      record.put("start." + i, pid[1]);
      record.put("port." + i, pid[2]);
      String[] owner = layout.readOwner(hostId, i);
      if (owner.length == 1 && Labels.validKey(owner[0])) {
        record.put("owner." + i, owner[0]);
        owned = true;
      }
    }
    record.put("protected", String.valueOf(owned));
    return anyAlive ? record : null;
  }
}
