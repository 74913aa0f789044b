package io.berth.stack.bench;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code warm}: POST /api/workspaces → 200 READY (the API answers READY only once the route
 * serves), timed from the client, at several concurrencies, every allocation on a warm spare.
 */
final class WarmScenario {
  /** The saga's activities in order; the rest of an allocation is the API's and Temporal's. */
  static final List<String> SAGA = List.of("ClaimSpare", "AwaitReady", "TagOwner", "ProtectHost", "UpsertRecord",
      "RouteWorkspace", "StoreSession");

  private final PoolStack pool;
  private final ActivityTimer timer;
  /** Each concurrency's run, for the direct scenario's ratios. */
  final Map<Integer, Rounds.Result> byConcurrency = new LinkedHashMap<>();

  WarmScenario(PoolStack pool) {
    this.pool = pool;
    this.timer = pool.timer;
  }

  private Rounds.WarmUp warmUp;

  void run(Report report, int total, int[] concurrencies) throws Exception {
    BenchStack s = pool.stack();
    // Untimed warm-up: JIT, connections, Nginx with routes (Rounds.warmUp says why so long).
    warmUp = Rounds.warmUp(i -> Rounds.run("warmup" + i, 10, pool.size, pool.size, user -> allocate(s, user),
        pool::releaseAll));
    List<List<String>> rows = new ArrayList<>();
    List<List<String>> profile = new ArrayList<>();
    Map<Integer, Map<String, Stats>> activities = new LinkedHashMap<>();
    Map<Integer, List<HistoryBreakdown>> breakdowns = new LinkedHashMap<>();
    for (int c : concurrencies) {
      timer.reset();
      AtomicInteger notServing = new AtomicInteger();
      List<HistoryBreakdown> histories = new ArrayList<>();
      Rounds.Result r = Rounds.run("warm", c, total, pool.size, user -> allocate(s, user), users -> {
        for (String u : users) {
          if (!s.serves(u)) {
            notServing.incrementAndGet();
          }
          HistoryBreakdown h = HistoryBreakdown.of(s.stack.temporal().client()
              .fetchHistory(io.berth.workflows.WorkspaceWorkflow.idFor(u)).getEvents());
          if (h != null) {
            histories.add(h);
          }
        }
        pool.releaseAll(users);
      });
      breakdowns.put(c, histories);
      byConcurrency.put(c, r);
      activities.put(c, timer.snapshot());
      rows.add(List.of(String.valueOf(c), String.valueOf(r.latency().n()), String.valueOf(r.errors()),
          Stats.ms(r.latency().p(50)), Stats.ms(r.latency().p(95)), Stats.ms(r.latency().p(99)),
          Stats.ms(r.latency().max()), String.format("%.1f/s", r.latency().n() / r.wallSeconds()),
          r.cpuPerAllocation(), String.valueOf(notServing.get())));
      if (r.firstError() != null) {
        System.out.println("bench: warm c=" + c + " first error: " + r.firstError());
      }
      System.out.printf("bench: warm c=%d done: p50 %s p99 %s%n", c, Stats.ms(r.latency().p(50)),
          Stats.ms(r.latency().p(99)));
    }
    for (String type : SAGA) {
      List<String> row = new ArrayList<>(List.of(type));
      for (int c : concurrencies) {
        Stats st = activities.get(c).get(type);
        row.add(st == null ? "-" : Stats.ms(st.p(50)) + " / " + Stats.ms(st.p(99)));
      }
      profile.add(row);
    }
    List<String> sumRow = new ArrayList<>(List.of("sum of activity medians"));
    List<String> restRow = new ArrayList<>(List.of("rest (API, Temporal tasks, queueing): p50 − sum"));
    for (int c : concurrencies) {
      double sum = SAGA.stream().mapToDouble(t -> {
        Stats st = activities.get(c).get(t);
        return st == null ? 0 : st.p(50);
      }).sum();
      sumRow.add(Stats.ms(sum));
      restRow.add(Stats.ms(byConcurrency.get(c).latency().p(50) - sum));
    }
    profile.add(sumRow);
    profile.add(restRow);
    List<List<String>> temporalRows = new ArrayList<>();
    String[] names = {"workflow start → READY workflow task done (server clock)",
        "activity bodies (started → completed)",
        "activity tasks waiting for a poller (scheduled → started)", "workflow tasks waiting (scheduled → started)",
        "workflow tasks running (started → completed)", "workflow tasks per allocation"};
    for (int i = 0; i < names.length; i++) {
      List<String> row = new ArrayList<>(List.of(names[i]));
      for (int c : concurrencies) {
        List<HistoryBreakdown> hs = breakdowns.get(c);
        int k = i;
        double[] v = hs.stream().mapToDouble(h -> switch (k) {
          case 0 -> h.total();
          case 1 -> h.activityRun();
          case 2 -> h.activityQueue();
          case 3 -> h.workflowTaskQueue();
          case 4 -> h.workflowTaskRun();
          default -> h.workflowTasks();
        }).toArray();
        Stats st = Stats.of(v);
        row.add(k == 5 ? String.format("%.0f", st.p(50)) : Stats.ms(st.p(50)));
      }
      temporalRows.add(row);
    }

    Report.Section sec = report.section("warm", "Warm allocation latency");
    sec.text("POST /api/workspaces → 200 READY, timed at the client. Every allocation takes a warm spare: the fleet is "
        + "fixed at " + pool.size + " one-slot hosts (BERTH_MIN_HOSTS = BERTH_MAX_HOSTS = BERTH_SPARES = " + pool.size
        + "), so no host launches during the timed part (on AWS a replacement launches on another machine; here it "
        + "would take this machine's two cores). Template: " + pool.templateDescription() + ". Rounds of at most "
        + pool.size + " allocations; between rounds (untimed) each workspace is opened through Nginx as its owner "
        + "would (a launch link from the API, its cookie, then GET /) and must answer 2xx with its route header; then "
        + "every workspace is released and the bench waits until all spares are back. "
        + "First, " + warmUp.describe() + ".");
    sec.text("CPU per allocation: CPU time over the timed rounds divided by the allocations, of the stack's JVM "
        + "(API, worker, Temporal's test server, the bench's client) / of the whole machine (also Nginx, Redis and "
        + "the slot processes).");
    sec.table(List.of("concurrency", "allocations", "errors", "p50", "p95", "p99", "max", "throughput",
        "CPU per allocation (JVM / machine)", "not serving after READY"), rows);
    List<String> header = new ArrayList<>(List.of("activity (execution time at the worker)"));
    for (int c : concurrencies) {
      header.add("c=" + c + " p50 / p99");
    }
    sec.text("Where the time goes: each saga activity's own execution time, measured by a worker interceptor.");
    sec.table(header, profile);
    List<String> header2 = new ArrayList<>(List.of("from each allocation's workflow history (median per allocation)"));
    for (int c : concurrencies) {
      header2.add("c=" + c);
    }
    sec.text("The same allocations seen from Temporal's side: sums over one allocation's history, from the first "
        + "event to the workflow task that follows StoreSession (the update answers after that task).");
    sec.table(header2, temporalRows);
    Stats ten = byConcurrency.containsKey(10) ? byConcurrency.get(10).latency() : null;
    if (ten != null) {
      sec.target("p50 at 10 concurrent", ten.p(50), 200, " ms", true);
      sec.target("p99 at 10 concurrent", ten.p(99), 600, " ms", true);
    }
    Report.print(sec);
  }

  static void allocate(BenchStack s, String user) {
    HttpResponse<String> r = s.allocate(user);
    if (!BenchStack.ready(r)) {
      throw new IllegalStateException("allocate: " + r.statusCode() + " " + r.body());
    }
  }

  static Duration releaseBound() {
    return Duration.ofSeconds(60);
  }
}
