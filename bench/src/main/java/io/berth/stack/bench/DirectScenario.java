package io.berth.stack.bench;

import io.berth.activities.dns.NoDns;
import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.activities.probe.HttpProbe;
import io.berth.activities.routing.GatewayRoutes;
import io.berth.activities.store.RedisStore;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.Labels;
import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.DnsRecord;
import io.berth.workflows.model.RouteSpec;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code direct}: the saga's steps called in sequence on the running stack's own activity
 * implementations, without Temporal (and without the API), to price what the workflow adds.
 * Also the same allocation through Temporal without the HTTP API ({@link WorkspaceWorkflows}).
 */
final class DirectScenario {
  private static final List<String> STEPS = List.of("claim", "probe", "tag", "protect", "dns", "route", "session");
  private final PoolStack pool;
  private final Map<String, ConcurrentLinkedQueue<Double>> steps = new ConcurrentHashMap<>();
  private final Map<String, Held> held = new ConcurrentHashMap<>();

  private record Held(String requestId, String workspaceId, Slot slot, RouteSpec route, DnsRecord dns) {}

  DirectScenario(PoolStack pool) {
    this.pool = pool;
  }

  void run(Report report, int total, int[] concurrencies, Map<Integer, Rounds.Result> viaApi) throws Exception {
    BenchStack s = pool.stack();
    RedisStore store = new RedisStore(s.stack.redis(), s.stack.keys(), s.stack.worker().fleet());
    FleetActivitiesImpl fleet = new FleetActivitiesImpl(s.stack.worker().fleet());
    NoDns dns = new NoDns();
    GatewayRoutes routes = s.stack.worker().routes();
    HttpProbe probe = new HttpProbe();
    WorkspaceWorkflows temporal = new WorkspaceWorkflows(s.stack.temporal().client(), new WorkspaceSettings(
        Duration.ofMinutes(30), Duration.ofHours(12), Duration.ofMinutes(5), Duration.ofSeconds(60), s.template,
        List.of(s.template), s.stack.config().domain(), "http://{label}.{domain}:" + s.gatewayPort + "/",
        Duration.ZERO, "off", "off", "off", null, null));

    Rounds.Allocation direct = user -> {
      String requestId = UUID.randomUUID().toString();
      String workspaceId = UUID.randomUUID().toString();
      long t = System.nanoTime();
      Slot slot = store.claimSpare(new ClaimRequest(requestId, user, s.template));
      if (slot == null) {
        throw new IllegalStateException("no spare");
      }
      t = step("claim", t);
      probe.awaitReady(slot);
      t = step("probe", t);
      fleet.tagOwner(requestId, slot, user);
      t = step("tag", t);
      fleet.protectHost(requestId, slot.hostId());
      t = step("protect", t);
      String label = Labels.labelFor(user);
      String hostname = s.hostname(user);
      DnsRecord record = new DnsRecord(requestId, hostname, slot.address());
      dns.upsertRecord(record);
      t = step("dns", t);
      RouteSpec route = new RouteSpec(requestId, user, label, hostname, slot.address(), slot.port());
      routes.routeWorkspace(route);
      t = step("route", t);
      long now = System.currentTimeMillis();
      store.storeSession(new Session(requestId, user, workspaceId, label, "http://" + hostname + "/", slot,
          s.template, now, now + 1_800_000, now + 43_200_000, 1_800_000, WorkspaceState.READY.name()));
      step("session", t);
      held.put(user, new Held(requestId, workspaceId, slot, route, record));
    };
    Rounds.Between directTeardown = users -> {
      Rounds.parallel(users, 10, u -> {
        // No workflow, so no launch link: check the route itself (the workspace's own GET is the warm check's).
        if (!s.routed(u)) {
          throw new IllegalStateException(u + " is not routed after the direct saga");
        }
        Held h = held.remove(u);
        // The workflow's teardown, in its order.
        routes.unrouteWorkspace(h.route());
        dns.deleteRecord(h.dns());
        store.deleteSession(u, h.workspaceId());
        fleet.recycleSlot(h.slot());
        fleet.untagOwner(h.requestId(), h.slot(), u);
        fleet.unprotectHost(h.requestId(), h.slot());
        store.forgetClaim(h.requestId());
      });
      s.awaitSpares(pool.size, Duration.ofMinutes(2));
    };
    Rounds.Allocation viaTemporal = user -> {
      WorkspaceView v = temporal.allocate(user, s.template);
      if (v.state() != WorkspaceState.READY) {
        throw new IllegalStateException("state " + v.state() + ": " + v.reason());
      }
    };

    // Both paths warm up alike, in turns, until the JIT has settled (Rounds.warmUp); run alone with a
    // warm-up of 20, `direct` timed a cold Temporal path.
    Rounds.WarmUp warmUp = Rounds.warmUp(i -> {
      Rounds.run("dwarm" + i, 10, pool.size, pool.size, direct, directTeardown);
      Rounds.run("twarm" + i, 10, pool.size, pool.size, viaTemporal, pool::releaseAll);
    });
    List<List<String>> rows = new ArrayList<>();
    Map<Integer, Map<String, Stats>> stepStats = new LinkedHashMap<>();
    Report.Section sec = report.section("direct", "The saga without Temporal");
    for (int c : concurrencies) {
      steps.clear();
      // Round for round in turns, so that whatever the machine does meanwhile (the JIT, the
      // controller, other load) falls on both paths alike.
      Rounds.Result d = null;
      Rounds.Result t = null;
      for (int done = 0; done < total; done += pool.size) {
        int n = Math.min(pool.size, total - done);
        Rounds.Result dr = Rounds.run("direct", c, n, pool.size, direct, directTeardown);
        Rounds.Result tr = Rounds.run("temporal", c, n, pool.size, viaTemporal, pool::releaseAll);
        d = d == null ? dr : d.plus(dr);
        t = t == null ? tr : t.plus(tr);
      }
      Map<String, Stats> perStep = new LinkedHashMap<>();
      STEPS.forEach(k -> perStep.put(k,
          Stats.of(new ArrayList<>(steps.getOrDefault(k, new ConcurrentLinkedQueue<>())))));
      stepStats.put(c, perStep);
      rows.add(row("direct calls, c=" + c, d.latency(), d.errors(), d.cpuPerAllocation()));
      rows.add(row("Temporal, no HTTP (WorkspaceWorkflows.allocate), c=" + c, t.latency(), t.errors(),
          t.cpuPerAllocation()));
      rows.add(ratioRow("ratio Temporal / direct (the saga's overhead), c=" + c, t, d));
      Rounds.Result viaApiRun = viaApi.get(c);
      if (viaApiRun != null) {
        rows.add(row("API + Temporal (the `warm` figures), c=" + c, viaApiRun.latency(), viaApiRun.errors(),
            viaApiRun.cpuPerAllocation()));
        rows.add(ratioRow("ratio API+Temporal / direct, c=" + c, viaApiRun, d));
      }
      if (c == 10 || concurrencies.length == 1) {
        sec.target("saga overhead p50 ratio (Temporal / direct, neither behind HTTP) at c=" + c, ratio(t, d, 50),
            2, "×", true);
        sec.target("saga overhead p99 ratio at c=" + c, ratio(t, d, 99), 2, "×", true);
        if (viaApiRun != null) {
          sec.verdict(String.format("with the HTTP API in front (API+Temporal / direct) at c=%d: p50 %.2f×, p99 %.2f× "
              + "(the API's request handling is not the saga's, but a user waits for it)", c,
              ratio(viaApiRun, d, 50), ratio(viaApiRun, d, 99)));
        }
      }
      if (d.firstError() != null) {
        System.out.println("bench: direct first error: " + d.firstError());
      }
      if (t.firstError() != null) {
        System.out.println("bench: temporal first error: " + t.firstError());
      }
    }
    sec.text("The same steps as the allocation saga — claimSpare → awaitReady → tagOwner → protectHost → upsertRecord "
        + "(NoDns) → routeWorkspace → storeSession — called one after another on the running worker's own "
        + "implementations (its LocalFleet, its routes — RedisRoutes, or NginxRoutes and its reloader with "
        + "BERTH_ROUTING=files — the same Redis), no Temporal, no HTTP. Undone between rounds with the teardown's calls. Same pool and rounds as `warm`; both paths warm up in turns (" + warmUp.describe() + ", a direct round and a Temporal one each), and their timed rounds are taken in turns (a direct round, then a Temporal one), so that the JIT and the controller's work fall on both alike.");
    sec.text("CPU per allocation as in `warm`: the stack JVM's / the machine's, over the timed rounds only.");
    sec.table(List.of("path", "n", "errors", "p50", "p95", "p99", "max", "CPU per allocation (JVM / machine)"), rows);
    List<String> header = new ArrayList<>(List.of("direct step"));
    for (int c : concurrencies) {
      header.add("c=" + c + " p50 / p99");
    }
    List<List<String>> stepRows = new ArrayList<>();
    for (String k : STEPS) {
      List<String> r = new ArrayList<>(List.of(k));
      for (int c : concurrencies) {
        Stats st = stepStats.get(c).get(k);
        r.add(Stats.ms(st.p(50)) + " / " + Stats.ms(st.p(99)));
      }
      stepRows.add(r);
    }
    sec.table(header, stepRows);
    Report.print(sec);
  }

  private long step(String name, long since) {
    long now = System.nanoTime();
    steps.computeIfAbsent(name, k -> new ConcurrentLinkedQueue<>()).add((now - since) / 1e6);
    return now;
  }

  /** p50 and p99 of {@code a} over {@code d}, and CPU per allocation (JVM / machine) likewise. */
  private static List<String> ratioRow(String what, Rounds.Result a, Rounds.Result d) {
    return List.of(what, "", "", String.format("%.2f×", ratio(a, d, 50)), "", String.format("%.2f×", ratio(a, d, 99)),
        "", String.format("%.2f× / %.2f×", a.jvmCpuPerAllocation() / d.jvmCpuPerAllocation(),
            a.machineCpuPerAllocation() / d.machineCpuPerAllocation()));
  }

  /** {@code a}'s latency percentile over {@code d}'s. */
  private static double ratio(Rounds.Result a, Rounds.Result d, double percentile) {
    return a.latency().p(percentile) / d.latency().p(percentile);
  }

  private static List<String> row(String what, Stats st, int errors, String cpu) {
    return List.of(what, String.valueOf(st.n()), String.valueOf(errors), Stats.ms(st.p(50)), Stats.ms(st.p(95)),
        Stats.ms(st.p(99)), Stats.ms(st.max()), cpu);
  }
}
