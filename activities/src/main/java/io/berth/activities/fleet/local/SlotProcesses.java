package io.berth.activities.fleet.local;

import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The template process of each slot: started with the slot's environment (in a {@link SlotBox}
 * when the fleet boxes its slots), recorded in the slot's pid file and its host's record, killed
 * with what it started, restarted for a new owner. Remembers the processes it started or adopted,
 * which is what a shutdown kills even when Redis is gone.
 */
final class SlotProcesses {
  static final Duration KILL_BOUND = Duration.ofSeconds(4);
  /** A restart for a new owner must serve well within the tag activity's 30 s start-to-close timeout. */
  private static final Duration RESTART_SERVE_BOUND = Duration.ofSeconds(20);
  private static final Logger log = LoggerFactory.getLogger(SlotProcesses.class);

  private final LocalFleetConfig config;
  private final Template template;
  private final FleetLayout layout;
  private final HostRegistry registry;
  private final SlotPorts ports;
  /** Slot id → the process this fleet started or adopted. */
  private final Map<String, SlotProcess> processes = new ConcurrentHashMap<>();

  SlotProcesses(LocalFleetConfig config, FleetLayout layout, HostRegistry registry, SlotPorts ports) {
    this.config = config;
    this.template = config.template();
    this.layout = layout;
    this.registry = registry;
    this.ports = ports;
  }

  // ---- what runs -----------------------------------------------------------------------------

  /** A process found running for the slot (a previous worker's), from now on this fleet's. */
  void adopt(String slotId, SlotProcess p) {
    processes.put(slotId, p);
  }

  /** Stops tracking the slot's process (it keeps running); returns it, null when none was tracked. */
  SlotProcess forget(String slotId) {
    return processes.remove(slotId);
  }

  /** Stops tracking every process, leaving them running. */
  void forgetAll() {
    processes.clear();
  }

  Collection<SlotProcess> tracked() {
    return processes.values();
  }

  /** Slot id → process, a copy. */
  Map<String, SlotProcess> snapshot() {
    return new LinkedHashMap<>(processes);
  }

  /** Ends the processes and what they started; false when something survived {@link #KILL_BOUND}. */
  static boolean killAll(Collection<SlotProcess> procs) {
    return SlotProcess.killAll(procs, KILL_BOUND);
  }

  // ---- start, kill, restart ------------------------------------------------------------------

  /** {@code userLabel}: the owner whose directory the process runs on (templates that keep user state), or null. */
  void start(String hostId, int index, int port, String userLabel) {
    String slotId = Slot.idOf(hostId, index);
    try {
      Path dir = layout.createSlotDir(hostId, index);
      Path userDir = userLabel == null ? null : layout.createUserDir(userLabel);
      // Fresh for every process; private like the slot directory (createTempDirectory makes it 700).
      Path scratch = Files.createTempDirectory(dir, "run-");
      Map<String, String> env = environment(dir, userDir, port);
      Template.Launch launch = new Template.Launch(port, dir, userDir, scratch, Map.copyOf(env));
      template.prepare(launch);
      List<String> argv = boxed() ? boxedArgv(launch, hostId, index) : template.argv(launch);
      SlotProcess p = SlotProcess.start(argv, dir, env, layout.logFile(dir));
      processes.put(slotId, p);
      layout.writePidFile(hostId, index, p, port, userLabel);
      registry.recordProcess(hostId, index, p, port, userLabel);
    } catch (IOException e) {
      ports.release(port, slotId);
      throw new UncheckedIOException("could not start " + template.name() + " in " + slotId, e);
    }
  }

  /** The whole environment of a slot process: nothing of the worker's but PATH. */
  private Map<String, String> environment(Path slotDir, Path userDir, int port) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    env.put("LANG", "C.UTF-8");
    env.put("HOME", (userDir != null ? userDir : slotDir).toString());
    env.put("BERTH_SLOT_DIR", slotDir.toString());
    env.put("BERTH_PORT", String.valueOf(port));
    env.put("BERTH_API_URL", config.apiUrl());
    env.put("BERTH_ACTIVITY_INTERVAL_MS", String.valueOf(config.activityInterval().toMillis()));
    return env;
  }

  /** Kills the slot's process (tracked and recorded) and drops its firewall rule; throws when it survives. */
  void kill(String slotId, SlotState s) {
    List<SlotProcess> procs = new ArrayList<>();
    SlotProcess mine = processes.remove(slotId);
    if (mine != null) {
      procs.add(mine);
    }
    if (s.process() != null) {
      procs.add(s.process());
    }
    if (!killAll(procs)) {
      throw new IllegalStateException("process of " + slotId + " survived recycling");
    }
    forgetFirewallRule(s.port());
  }

  /**
   * A fresh process on the slot for {@code userLabel} (null: ownerless); returns its port. Under
   * the fleet's lock. An owner's process keeps the slot's port: the workflow routes to the port it claimed.
   */
  int restart(Slot slot, SlotState s, String userLabel) {
    kill(slot.slotId(), s);
    layout.wipeSlotDir(slot);
    int port = userLabel != null ? ports.samePort(slot.slotId(), s.port()) : ports.reusablePort(slot.slotId(), s.port());
    start(slot.hostId(), slot.index(), port, userLabel);
    log.info("{} restarted {}", slot.slotId(), userLabel == null ? "ownerless" : "for its owner");
    return port;
  }

  /** Outside the lock: a starting code-server takes seconds, and the fleet must not stand still meanwhile. */
  void awaitServing(Slot slot, int port) {
    long deadline = System.nanoTime() + RESTART_SERVE_BOUND.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        LoopbackHttp.Answer a = LoopbackHttp.get(port, template.probePath(), Duration.ofSeconds(2));
        if (a.ok()) {
          return;
        }
        last = "answered " + a.status();
      } catch (IOException e) {
        last = e.getClass().getSimpleName();
      }
      SlotPorts.sleep(Duration.ofMillis(200));
    }
    throw ApplicationFailure.newFailure("slot " + slot.slotId() + " not serving after its restart for the owner: "
        + last, "NotReady");
  }

  // ---- box -----------------------------------------------------------------------------------

  /** Whether this fleet's slots run in a {@link SlotBox}. */
  boolean boxed() {
    return config.box() != null && template.runsUserCode();
  }

  /** The slot's firewall rule goes with its process (the next slot on the port makes its own). */
  void forgetFirewallRule(int port) {
    SlotBox box = config.box();
    if (boxed() && box.firewall() != null && port > 0 && port <= 65535) {
      box.firewall().remove(SlotBox.uidFor(port));
    }
  }

  /**
   * The slot's directories made its uid's, a passwd file naming that uid beside the slot's pid
   * file, and the template's command wrapped in the box.
   */
  private List<String> boxedArgv(Template.Launch launch, String hostId, int index) throws IOException {
    SlotBox box = config.box();
    long uid = SlotBox.uidFor(launch.port());
    box.own(launch.slotDir(), launch.userDir(), uid, FleetLayout.LOG_FILE);
    if (box.firewall() != null) {
      box.firewall().allow(uid, launch.port()); // before the process runs: it never has a moment unfiltered
    }
    Path passwd = layout.passwdFile(hostId, index);
    SlotBox.writePasswd(passwd, uid, launch.userDir() != null ? launch.userDir() : launch.slotDir());
    List<String> argv = template.boxedArgv(launch);
    List<Path> readOnly = new ArrayList<>(template.readOnlyPaths());
    // Files and directories the operator's command names by absolute path (a script, --directory=/srv/www),
    // read-only; never the state directory, anything in it, or anything holding it.
    Path state = config.stateDir().toAbsolutePath().normalize();
    for (String word : argv) {
      String path = word.startsWith("/") ? word : word.startsWith("-") && word.contains("=/")
          ? word.substring(word.indexOf("=/") + 1) : null;
      if (path == null) {
        continue;
      }
      Path p = Path.of(path).normalize();
      if (p.getNameCount() > 0 && !p.startsWith(state) && !state.startsWith(p)
          && (Files.isRegularFile(p) || Files.isDirectory(p))) {
        readOnly.add(p);
      }
    }
    return box.wrap(argv, uid, launch.slotDir(), launch.userDir(), readOnly, passwd);
  }
}
