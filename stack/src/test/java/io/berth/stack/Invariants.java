package io.berth.stack;

import io.berth.activities.fleet.Fleet;
import io.berth.activities.routing.GatewayClient;
import io.berth.testkit.Await;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.SlotStatus;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import redis.clients.jedis.UnifiedJedis;

/**
 * What must hold after any fault, once the system has settled: every workspace workflow's state
 * matches Redis, the Nginx route files (and what Nginx serves) and the fleet; nothing is orphaned
 * (route file, session, heartbeat token, owner tag, claim, scale-in protection, host, workspace process);
 * no user holds two slots and no slot belongs to two users; the pool holds only free, live slots.
 *
 * <p>Every fault scenario ends with {@link #awaitHold}: it polls (bounded) until no violation is
 * left, and otherwise fails listing the violations it saw last.
 */
public final class Invariants {
  private static final String CHECK_PATH = "/.berth/route";
  private static final String ROUTE_HEADER = "X-Berth-Route";

  /**
   * Where to look. {@code fleetDir} (the local fleet's host directories) may be null for a cloud
   * fleet; {@code gatewayAddress} null skips asking Nginx. {@code dynamicRouting}: routes are the
   * {@code route:<label>} records in Redis, else the files in {@code routesDir}.
   */
  public record Sources(WorkflowClient client, UnifiedJedis redis, RedisKeys keys, Fleet fleet, Path routesDir,
                        Path fleetDir, String gatewayAddress, int gatewayPort, String domain, String template,
                        boolean dynamicRouting) {}

  private Invariants() {}

  /** Polls until every invariant holds for {@code users} (and everyone else found), at most {@code bound}. */
  public static void awaitHold(Sources s, Collection<String> users, Duration bound) {
    List<List<String>> last = new ArrayList<>(List.of(List.of()));
    try {
      Await.until("the invariants to hold", bound, () -> {
        List<String> v = violations(s, users);
        last.set(0, v);
        return v.isEmpty();
      });
    } catch (AssertionError e) {
      throw new AssertionError("invariants violated after " + bound + ":\n  " + String.join("\n  ", last.get(0)), e);
    }
  }

  /** The user's workflow as the invariants see it: its view when running, else ENDED / NONE. */
  private record Run(String status, WorkspaceView view) {
    boolean ready() {
      return view != null && view.state() == WorkspaceState.READY;
    }

    boolean over() {
      return view == null;
    }
  }

  public static List<String> violations(Sources s, Collection<String> knownUsers) {
    List<String> v = new ArrayList<>();
    RedisKeys k = s.keys();
    List<Host> hosts = s.fleet().describe().hosts();
    Map<String, SlotStatus> slots = new HashMap<>();
    Map<String, List<String>> slotsByOwner = new HashMap<>();
    hosts.forEach(h -> h.slots().forEach(st -> {
      slots.put(st.slot().slotId(), st);
      if (st.owner() != null) {
        slotsByOwner.computeIfAbsent(st.owner(), o -> new ArrayList<>()).add(st.slot().slotId());
      }
    }));

    Set<String> users = new TreeSet<>(knownUsers);
    users.addAll(s.redis().smembers(k.users()));
    users.addAll(slotsByOwner.keySet());
    users.addAll(sessionUsers(s));
    Map<String, String> userByLabel = new HashMap<>();
    users.forEach(u -> userByLabel.put(Labels.labelFor(u), u));

    Map<String, Run> runs = new HashMap<>();
    for (String u : users) {
      Run r = run(s.client(), u);
      runs.put(u, r);
      if (r.view() != null && r.view().state() != WorkspaceState.READY) {
        v.add(u + ": workflow still " + r.view().state());
      }
      checkUser(s, u, r, slots, slotsByOwner.getOrDefault(u, List.of()), v);
    }

    Set<String> routeLabels = s.dynamicRouting() ? routeRecordLabels(s) : routeLabels(s.routesDir());
    for (String label : routeLabels) {
      String u = userByLabel.get(label);
      if (u == null || !runs.get(u).ready()) {
        v.add("orphan route " + label + " (" + (u == null ? "no known user" : u + " has no READY workspace") + ")");
      }
    }

    Map<String, List<String>> sessionsBySlot = new HashMap<>();
    for (String u : sessionUsers(s)) {
      String slot = s.redis().hget(k.workspace(u), "slotId");
      sessionsBySlot.computeIfAbsent(String.valueOf(slot), x -> new ArrayList<>()).add(u);
    }
    sessionsBySlot.forEach((slot, us) -> {
      if (us.size() > 1) {
        v.add("slot " + slot + " is in the sessions of " + us);
      }
    });
    slotsByOwner.forEach((owner, owned) -> {
      if (owned.size() > 1) {
        v.add(owner + " owns " + owned.size() + " slots " + owned);
      }
    });

    for (Host h : hosts) {
      if (h.scaleInProtected() && !h.owned()) {
        v.add("orphan protection on " + h.hostId() + " (no slot owned)");
      }
      if (!h.running()) {
        v.add("host " + h.hostId() + " is " + h.state());
      }
    }
    for (SlotStatus st : slots.values()) {
      String by = s.redis().hget(k.slot(st.slot().slotId()), "claimedBy");
      if (by != null && st.slot().slotId().equals(s.redis().get(k.claim(by))) && st.owner() == null) {
        v.add("claim " + by + " holds " + st.slot().slotId() + " with no owner (no saga will finish or undo it)");
      }
    }
    checkPool(s, slots, sessionsBySlot.keySet(), v);
    checkTokens(s, v);
    if (s.fleetDir() != null) {
      checkHostsOnDisk(s, hosts, v);
    }
    return v;
  }

  private static void checkUser(Sources s, String u, Run r, Map<String, SlotStatus> slots, List<String> owned,
                                List<String> v) {
    Map<String, String> session = s.redis().hgetAll(s.keys().workspace(u));
    Map<String, String> record = s.dynamicRouting() ? s.redis().hgetAll(s.keys().route(Labels.labelFor(u))) : Map.of();
    boolean routeFile = s.dynamicRouting() ? !record.isEmpty()
        : Files.exists(s.routesDir().resolve(Labels.labelFor(u) + ".conf"));
    boolean inUsers = s.redis().sismember(s.keys().users(), u);
    if (r.ready()) {
      WorkspaceView w = r.view();
      if (session.isEmpty()) {
        v.add(u + ": READY but no session in Redis");
      } else {
        expect(v, u + ": session state", "READY", session.get("state"));
        expect(v, u + ": session workspaceId", w.workspaceId(), session.get("workspaceId"));
        expect(v, u + ": session slotId", w.slotId(), session.get("slotId"));
      }
      if (!inUsers) {
        v.add(u + ": READY but not in ws:users");
      }
      SlotStatus slot = slots.get(w.slotId());
      if (slot == null) {
        v.add(u + ": READY on slot " + w.slotId() + " that the fleet does not have");
      } else {
        expect(v, u + ": owner tag of " + w.slotId(), u, slot.owner());
        if (!slot.alive()) {
          v.add(u + ": the process of " + w.slotId() + " is not running");
        }
        if (!hostProtected(s, slot.slot().hostId())) {
          v.add(u + ": host " + slot.slot().hostId() + " is not protected from scale-in");
        }
        boolean pointsAtSlot = s.dynamicRouting() ? String.valueOf(slot.slot().port()).equals(record.get("port"))
            && String.valueOf(session.get("requestId")).equals(record.get("requestId"))
            : routeFileText(s, u).contains(":" + slot.slot().port() + ";");
        if (routeFile && !pointsAtSlot) {
          v.add(u + ": route does not point at port " + slot.slot().port() + " of this run");
        }
      }
      if (!routeFile) {
        v.add(u + ": READY but no route");
      } else if (s.gatewayAddress() != null && !routeAnswers(s, u)) {
        v.add(u + ": Nginx does not serve the route");
      }
      owned.stream().filter(id -> !id.equals(w.slotId())).forEach(id -> v.add(u + ": also owns " + id));
    } else if (r.over()) {
      if (!session.isEmpty()) {
        v.add("orphan session of " + u + " (workflow " + r.status() + ")");
      }
      if (inUsers) {
        v.add("orphan ws:users entry " + u);
      }
      owned.forEach(id -> v.add("orphan owner tag " + u + " on " + id + " (workflow " + r.status() + ")"));
      if (s.gatewayAddress() != null && routeAnswers(s, u)) {
        v.add("Nginx still serves the route of " + u + " (workflow " + r.status() + ")");
      }
    }
  }

  private static void checkPool(Sources s, Map<String, SlotStatus> slots, Set<String> inSessions, List<String> v) {
    for (String id : s.redis().smembers(s.keys().pool(s.template()))) {
      SlotStatus st = slots.get(id);
      if (st == null) {
        v.add("spare " + id + " is not in the fleet");
      } else if (st.owner() != null) {
        v.add("spare " + id + " is owned by " + st.owner());
      } else if (!st.alive()) {
        v.add("spare " + id + " has no live process");
      }
      if (inSessions.contains(id)) {
        v.add("spare " + id + " is in a session");
      }
    }
  }

  /** Every heartbeat token belongs to the current session of its user. */
  private static void checkTokens(Sources s, List<String> v) {
    String prefix = s.keys().heartbeatToken("");
    for (String key : s.redis().keys(prefix + "*")) {
      Map<String, String> t = s.redis().hgetAll(key);
      String hash = key.substring(prefix.length());
      Map<String, String> session = t.get("user") == null ? Map.of()
          : s.redis().hgetAll(s.keys().workspace(t.get("user")));
      if (!hash.equals(session.get("tokenHash")) || !String.valueOf(t.get("workspaceId"))
          .equals(session.get("workspaceId"))) {
        v.add("orphan heartbeat token of " + t.get("user"));
      }
    }
  }

  /** Local fleet: a directory per host and no other; no workspace process the fleet does not know of. */
  private static void checkHostsOnDisk(Sources s, List<Host> hosts, List<String> v) {
    Set<String> known = new HashSet<>();
    hosts.forEach(h -> known.add(h.hostId()));
    Set<String> dirs = new HashSet<>(list(s.fleetDir()));
    dirs.removeIf(d -> !d.matches("h-[0-9]+"));
    for (String d : dirs) {
      if (!known.contains(d)) {
        v.add("orphan host directory " + d);
      }
    }
    known.stream().filter(h -> !dirs.contains(h)).forEach(h -> v.add("host " + h + " has no directory"));
    Set<Long> recorded = new HashSet<>();
    for (String h : known) {
      Map<String, String> rec = s.redis().hgetAll(s.keys().instance(h));
      rec.forEach((f, val) -> {
        if (f.startsWith("pid.")) {
          recorded.add(Long.parseLong(val));
        }
      });
    }
    for (long pid : workspaceProcesses(s.fleetDir())) {
      if (!recorded.contains(pid)) {
        v.add("orphan workspace process " + pid + " (" + slotDirOf(pid) + ")");
      }
    }
  }

  /** Live processes started with a slot directory under {@code fleetDir}. */
  public static List<Long> workspaceProcesses(Path fleetDir) {
    String marker = "BERTH_SLOT_DIR=" + fleetDir + "/";
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).forEach(p -> {
        try {
          String env = new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.UTF_8);
          if (env.contains(marker)) {
            pids.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException | SecurityException e) {
          // gone meanwhile, or not ours to read
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pids;
  }

  private static String slotDirOf(long pid) {
    try {
      String env = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "environ")),
          StandardCharsets.UTF_8);
      for (String e : env.split("\0")) {
        if (e.startsWith("BERTH_SLOT_DIR=")) {
          return e.substring("BERTH_SLOT_DIR=".length());
        }
      }
    } catch (IOException e) {
      // exited
    }
    return "?";
  }

  private static Run run(WorkflowClient client, String user) {
    try {
      WorkflowExecutionStatus status = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe()
          .getStatus();
      if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        return new Run(status.name().replace("WORKFLOW_EXECUTION_STATUS_", ""), null);
      }
      return new Run("RUNNING", client.newWorkflowStub(WorkspaceWorkflow.class, WorkspaceWorkflow.idFor(user)).view());
    } catch (WorkflowNotFoundException e) {
      return new Run("NONE", null);
    }
  }

  private static Set<String> sessionUsers(Sources s) {
    String prefix = s.keys().workspace("");
    Set<String> users = new TreeSet<>();
    for (String key : s.redis().keys(prefix + "*")) {
      String u = key.substring(prefix.length());
      if (!key.equals(s.keys().pings()) && !key.equals(s.keys().users())) {
        users.add(u);
      }
    }
    return users;
  }

  private static boolean hostProtected(Sources s, String hostId) {
    return s.fleet().describe().hosts().stream().anyMatch(h -> h.hostId().equals(hostId) && h.scaleInProtected());
  }

  private static boolean routeAnswers(Sources s, String user) {
    String label = Labels.labelFor(user);
    try {
      GatewayClient.Answer a = GatewayClient.get(s.gatewayAddress(), s.gatewayPort(), label + "." + s.domain(),
          CHECK_PATH, Duration.ofSeconds(2));
      return label.equals(a.header(ROUTE_HEADER));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String routeFileText(Sources s, String user) {
    try {
      return Files.readString(s.routesDir().resolve(Labels.labelFor(user) + ".conf"));
    } catch (IOException e) {
      return "";
    }
  }

  private static Set<String> routeRecordLabels(Sources s) {
    String prefix = s.keys().route("");
    Set<String> labels = new TreeSet<>();
    for (String key : s.redis().keys(prefix + "*")) {
      labels.add(key.substring(prefix.length()));
    }
    return labels;
  }

  private static Set<String> routeLabels(Path dir) {
    Set<String> labels = new TreeSet<>();
    for (String n : list(dir)) {
      if (n.endsWith(".conf")) {
        labels.add(n.substring(0, n.length() - ".conf".length()));
      }
    }
    return labels;
  }

  private static List<String> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void expect(List<String> v, String what, Object wanted, Object got) {
    if (wanted == null ? got != null : !wanted.equals(got)) {
      v.add(what + " is " + got + ", expected " + wanted);
    }
  }
}
