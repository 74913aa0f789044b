package io.berth.stack.bench;

import io.berth.activities.routing.GatewayClient;
import io.berth.workflows.Labels;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.ReclaimOutcome;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.Optional;
import io.berth.workflows.model.WorkspaceView;
import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.HashSet;
import java.util.Set;
import io.temporal.client.WorkflowStub;
import java.util.concurrent.TimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code reclaim}: N workspaces go idle at about the same moment; lateness is when the route
 * stops answering at the gateway minus the workspace's idle deadline.
 */
final class ReclaimScenario {
  /** Long enough that a keep-alive beat every 20 s holds the early workspaces while the rest are allocated. */
  static final Duration IDLE = Duration.ofSeconds(60);
  /** One signal per workspace per 30 s (the product's cap): fewer signals queued behind the allocations. */
  static final Duration WINDOW = Duration.ofSeconds(30);
  private static final int SLOTS_PER_HOST = 50;
  /**
   * The armed-reclaim lead: the default at this idle timeout (min(idle / 3, 30 s) = 20 s), or
   * {@code BERTH_RECLAIM_LEAD} from the bench's environment to try another.
   */
  static final Duration LEAD = System.getenv("BERTH_RECLAIM_LEAD") == null ? Duration.ofSeconds(20)
      : Duration.parse(System.getenv("BERTH_RECLAIM_LEAD"));

  void run(Report report, int n) throws Exception {
    String socat = Templates.socat();
    String python = Templates.python();
    Path www = Templates.www();
    Process shared = null;
    String template;
    Map<String, String> env = new HashMap<>();
    int perHost = Math.min(SLOTS_PER_HOST, n);
    int hosts = (n + perHost - 1) / perHost;
    if (socat != null && python != null) {
      int port = FreePorts.next();
      shared = new ProcessBuilder(python, "-m", "http.server", String.valueOf(port), "--bind", "127.0.0.1",
          "--directory", www.toString()).redirectErrorStream(true).redirectOutput(www.resolve("server.log").toFile())
          .start();
      env.put("BERTH_TEMPLATE_COMMAND", socat + " TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:"
          + port);
      template = "`command`: one `socat` per slot (≈ 2 MB PSS each, measured) forwarding to one shared "
          + "`python3 -m http.server`";
    } else if (python != null) {
      env.put("BERTH_TEMPLATE_COMMAND", Templates.pythonCommand(www));
      template = "`command`: `python3 -m http.server` per slot (≈ 14 MB PSS each; socat not found)";
    } else {
      throw new IllegalStateException("reclaim needs python3 (and ideally socat) for light workspaces");
    }
    env.put("BERTH_TEMPLATE", "command");
    env.put("BERTH_SLOTS_PER_HOST", String.valueOf(perHost));
    env.put("BERTH_MIN_HOSTS", String.valueOf(hosts));
    env.put("BERTH_MAX_HOSTS", String.valueOf(hosts));
    env.put("BERTH_SPARES", String.valueOf(n));
    env.put("BERTH_IDLE_TIMEOUT", IDLE.toString());
    env.put("BERTH_HEARTBEAT_WINDOW", WINDOW.toString());
    env.put("BERTH_RECLAIM_LEAD", LEAD.toString());
    env.put("BERTH_RECONCILE_INTERVAL", "PT5S");
    env.put("BERTH_ALLOCATE_WAIT", "PT60S");
    System.out.println("bench: starting the reclaim stack (" + n + " slots on " + hosts + " hosts)");
    try (BenchStack s = BenchStack.start(env)) {
      s.awaitSpares(n, Duration.ofMinutes(5));
      run(report, s, n, hosts, perHost, template);
    } finally {
      if (shared != null) {
        shared.destroy();
        shared.waitFor(5, TimeUnit.SECONDS);
      }
      BenchStack.deleteTree(www);
    }
  }

  private void run(Report report, BenchStack s, int n, int hosts, int perHost, String template) throws Exception {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      users.add("rc-" + i);
    }
    Map<String, String> tokens = new ConcurrentHashMap<>();
    AtomicBoolean allocating = new AtomicBoolean(true);
    ExecutorService beats = Executors.newFixedThreadPool(16);
    // Keeps every allocated workspace alive while the others are still being allocated.
    Thread keepAlive = new Thread(() -> {
      while (allocating.get()) {
        beatAll(s, beats, new HashMap<>(tokens));
        for (int i = 0; i < 200 && allocating.get(); i++) {
          BenchStack.sleep(100);
        }
      }
    }, "bench-keepalive");
    long a0 = System.nanoTime();
    keepAlive.start();
    java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
    try {
      Rounds.parallel(users, 20, u -> {
        String error = s.readyWithin(u, Duration.ofMinutes(5));
        if (error != null) {
          if (failed.incrementAndGet() <= 3) {
            System.out.println("bench: reclaim: allocation failed: " + error);
          }
          return;
        }
        tokens.put(u, s.workspaceToken(u));
        if (tokens.size() % 100 == 0) {
          System.out.printf("bench: reclaim: %d allocated%n", tokens.size());
        }
      });
    } finally {
      allocating.set(false);
      keepAlive.join(60_000);
    }
    users.retainAll(tokens.keySet());
    if (users.isEmpty()) {
      throw new IllegalStateException("no workspace could be allocated");
    }
    double allocSeconds = (System.nanoTime() - a0) / 1e9;
    System.out.printf("bench: reclaim: %d allocated in %.1f s (%d failed); final heartbeat round%n", users.size(),
        allocSeconds, failed.get());
    long f0 = System.currentTimeMillis();
    beatAll(s, beats, tokens);
    long f1 = System.currentTimeMillis();
    beats.shutdown();
    // Predicted deadlines, to know when to start polling; the measure uses the deadline that expired.
    Map<String, Long> predicted = new HashMap<>();
    for (String u : users) {
      Double seen = s.stack.redis().zscore(s.stack.keys().pings(), u);
      predicted.put(u, seen == null ? f1 + IDLE.toMillis() : seen.longValue() + IDLE.toMillis());
    }
    long first = predicted.values().stream().mapToLong(Long::longValue).min().orElseThrow();
    long last = predicted.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    long lateStart = System.currentTimeMillis() - (first - 2_000);
    Map<String, Long> gone = poll(s, users, predicted, first - 2_000, last + 120_000);
    List<Double> lateness = new ArrayList<>();
    List<Double> decided = new ArrayList<>();
    List<Double> drift = new ArrayList<>();
    List<Double> unroute = new ArrayList<>();
    List<Double> armedAt = new ArrayList<>();
    List<Double> removedAt = new ArrayList<>();
    List<Double> stillRouted = new ArrayList<>();
    List<Double> recordLate = new ArrayList<>();
    int servedAfterRecord = 0;
    int expiredUnpolled = 0;
    int notGone = 0;
    // Teardowns may still be recycling slots (1,000 processes killed at once): wait for them within
    // one shared bound, then read the rest by query; the deadline and the teardown's start are known by then.
    long resultsBy = System.currentTimeMillis() + 120_000;
    for (String u : users) {
      WorkspaceView end = finalView(s, u, resultsBy);
      // The idle deadline the workflow held when it reclaimed: the one that expired.
      long deadline = end.idleDeadlineMillis();
      drift.add((double) (deadline - predicted.get(u)));
      if (deadline < predicted.get(u) - DUE_MARGIN_MS) {
        // Expired before the deadline predicted from the final beat (e.g. its keep-alive beat failed and
        // the final beat came after its deadline): the polls, started by the prediction, never watched
        // it at its deadline, so their figures for it would be the gap, not lateness.
        expiredUnpolled++;
        continue;
      }
      Long seen = lastRouted.get(u);
      if (seen != null) {
        stillRouted.add((double) (seen - deadline));
      }
      Long recordAt = recordGone.get(u);
      if (recordAt != null) {
        recordLate.add((double) (recordAt - deadline));
        if (seen != null && seen > recordAt) {
          servedAfterRecord++; // a poll sent after the record was seen gone still got the route
        }
      }
      Long g = gone.get(u);
      if (g == null) {
        notGone++;
      } else {
        lateness.add((double) (g - deadline));
      }
      long[] times = historyTimes(s, u);
      if (times[0] != 0) {
        unroute.add((double) (times[0] - deadline));
      }
      if (times[1] != 0) {
        armedAt.add((double) (times[1] - deadline));
      }
      if (times[2] != 0) {
        removedAt.add((double) (times[2] - deadline));
      }
      for (ProgressStep step : end.steps()) {
        if ("teardown".equals(step.step()) && "running".equals(step.status())) {
          decided.add((double) (step.atMillis() - deadline));
          break;
        }
      }
    }
    Stats late = Stats.of(lateness);
    Stats dec = Stats.of(decided);
    Stats moved = Stats.of(drift);
    Stats unrouted = Stats.of(unroute);
    Stats armed = Stats.of(armedAt);
    Stats removed = Stats.of(removedAt);
    Stats routedAfter = Stats.of(stillRouted);
    Stats record = Stats.of(recordLate);
    boolean byRecord = dynamic(s) && record.n() > 0;
    long armedLate = armedAt.stream().filter(d -> d > 0).count();
    // The default size keeps the name; another size is its own section, so both can stand in the report.
    Report.Section sec = report.section(n == 100 ? "reclaim" : "reclaim-" + n, "Idle-reclaim lateness, " + n
        + " workspaces");
    if (failed.get() > 0) {
      sec.verdict(failed.get() + " of " + n + " allocations did not reach READY within 5 min (POST → READY, polling "
          + "GET /api/workspaces/me after a 202); the lateness figures cover the " + users.size() + " that did");
    }
    sec.text(n + " workspaces on " + hosts + " local hosts of " + perHost + " slots; template " + template + ". "
        + "Idle timeout " + IDLE.toSeconds() + " s, heartbeat window " + WINDOW.toSeconds() + " s. "
        + "The workspaces were allocated through the API "
        + String.format("(%.0f s, 20 at a time)", allocSeconds) + " while a keep-alive loop heartbeated them, then one "
        + String.format("final heartbeat round (%d ms for all) put every idle deadline within %.1f s of each other. ",
            f1 - f0, (last - first) / 1000.0)
        + "Deadline of a workspace = the idle deadline its workflow held when it reclaimed it (its final view), i.e. "
        + "the deadline that expired; the last row shows how far that moved after the final beat (a `beat` signal "
        + "counts from the beat's own time, so a late signal moves it only as far as the beat itself did). "
        + "Route gone = the first poll of `/.berth/route` through the gateway (8 threads sweeping the hosts whose "
        + "deadline is at most " + DUE_MARGIN_MS + " ms away, a sweep every " + SWEEP_MIN_MS + " ms at the most) that no "
        + "longer carries the workspace's route header; the poll resolution is one sweep. Unroute done = when the "
        + "teardown's UnrouteWorkspace activity completed in the workflow's history (it returns once the gateway "
        + "no longer routes the host), the same event seen from the server's side. "
        + "The reclaim is armed: the workflow wakes " + LEAD.toSeconds() + " s before the "
        + "deadline (`BERTH_RECLAIM_LEAD`; the default at this idle timeout) and starts `ReclaimAt` on the worker, "
        + "which waits for the deadline without a thread and then, in one Lua step, checks the last activity and "
        + "deletes the `route:<label>` record the gateway reads on every request: the route stops serving then, and "
        + "the teardown (and its unroute) follows. Armed = when the last `ReclaimAt` started on the worker (history), "
        + "minus the deadline: negative is in time; a positive one means the lead did not cover the backlog. "
        + "Route record removed = when the armed reclaim's Lua step ran (the worker's clock, carried in its "
        + "result): the moment the gateway's answer changes, without the poll's resolution. Last poll that still saw the "
        + "route = when the last poll answered with the route header was sent: the route served at least until "
        + "then, so this bounds from below, through Nginx, how long it outlived its deadline (route gone bounds it "
        + "from above; under load a sweep of the due hosts takes longer than 100 ms, which widens the gap).");
    sec.table(List.of("measure", "n", "p50", "p99", "max"), List.of(
        List.of("route gone through the gateway (poll) − deadline", String.valueOf(late.n()), Stats.ms(late.p(50)),
            Stats.ms(late.p(99)), Stats.ms(late.max())),
        List.of("route record gone (Redis poll, " + RECORD_POLL_MS + " ms) − deadline", String.valueOf(record.n()),
            Stats.ms(record.p(50)), Stats.ms(record.p(99)), Stats.ms(record.max())),
        List.of("last poll that still saw the route (sent) − deadline", String.valueOf(routedAfter.n()),
            Stats.ms(routedAfter.p(50)), Stats.ms(routedAfter.p(99)), Stats.ms(routedAfter.max())),
        List.of("route record removed by the armed reclaim (worker clock) − deadline", String.valueOf(removed.n()),
            Stats.ms(removed.p(50)), Stats.ms(removed.p(99)), Stats.ms(removed.max())),
        List.of("armed reclaim started (history) − deadline", String.valueOf(armed.n()), Stats.ms(armed.p(50)),
            Stats.ms(armed.p(99)), Stats.ms(armed.max())),
        List.of("unroute done (history) − deadline", String.valueOf(unrouted.n()), Stats.ms(unrouted.p(50)),
            Stats.ms(unrouted.p(99)), Stats.ms(unrouted.max())),
        List.of("teardown started (workflow) − deadline", String.valueOf(dec.n()), Stats.ms(dec.p(50)),
            Stats.ms(dec.p(99)), Stats.ms(dec.max())),
        List.of("deadline that expired − deadline predicted after the final beat", String.valueOf(moved.n()),
            Stats.ms(moved.p(50)), Stats.ms(moved.p(99)), Stats.ms(moved.max()))));
    if (lateStart > 0) {
      sec.verdict("polling started " + lateStart + " ms after its planned start (2 s before the first deadline): "
          + "early lateness figures are overstated by up to that much");
    }
    if (armedLate > 0) {
      sec.verdict(armedLate + " armed reclaim(s) started after their deadline: the lead (" + LEAD.toSeconds()
          + " s) did not cover the workflow-task backlog for them");
    }
    if (notGone > 0) {
      sec.verdict(notGone + " workspace(s) still routed at the end of the polling bound");
    }
    sec.text(String.format("Mean poll sweep over all %d hostnames: %.0f ms.", n, sweepMillis));
    if (expiredUnpolled > 0) {
      sec.verdict(expiredUnpolled + " workspace(s) expired more than " + DUE_MARGIN_MS + " ms before the deadline "
          + "predicted after the final beat (so before the polling watched them): left out of the rows but the last");
    }
    if (servedAfterRecord > 0) {
      sec.verdict(servedAfterRecord + " workspace(s) answered with their route through the gateway after their "
          + "record was seen gone: the record is not what the gateway serves from");
    }
    if (byRecord) {
      sec.text("Lateness (the target) = route record gone: the gateway answers every request from that record "
          + "(dynamic routing), and no gateway poll sent after a record was seen gone still got the route "
          + "(checked for every workspace; a verdict above says otherwise). The gateway poll's own figure is "
          + "an upper bound that grows with its sweep time when the API is busy.");
    }
    sec.target("lateness p99 (" + n + " workspaces)", byRecord ? record.p(99) : late.p(99), 1000, " ms", true);
    Report.print(sec);
  }

  private double sweepMillis;
  /** Per workspace, when a poll of Redis first found its route record gone (dynamic routing). */
  private final Map<String, Long> recordGone = new ConcurrentHashMap<>();
  private static final long RECORD_POLL_MS = 10;

  private static boolean dynamic(BenchStack s) {
    return !"files".equalsIgnoreCase(s.stack.config().routing());
  }

  /** Per workspace, when the last poll that still saw its route was sent. */
  private final Map<String, Long> lastRouted = new ConcurrentHashMap<>();
  /** A sweep takes at least this long (the poll resolution), so that polling does not eat the cores it measures. */
  private static final long SWEEP_MIN_MS = 100;
  private static final long DUE_MARGIN_MS = 300;

  private static void beatAll(BenchStack s, ExecutorService exec, Map<String, String> tokens) {
    List<Future<?>> fs = new ArrayList<>();
    tokens.forEach((u, t) -> fs.add(exec.submit(() -> s.call("POST", "/api/heartbeat", t, null))));
    for (Future<?> f : fs) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.out.println("bench: heartbeat failed: " + e);
      }
    }
  }

  /** Sweeps every hostname until its route is gone; returns when each was first seen gone. */
  private Map<String, Long> poll(BenchStack s, List<String> users, Map<String, Long> due, long from, long until)
      throws Exception {
    while (System.currentTimeMillis() < from) {
      BenchStack.sleep(50);
    }
    Map<String, Long> gone = new ConcurrentHashMap<>();
    int threads = 8;
    ExecutorService exec = Executors.newFixedThreadPool(threads + 1);
    List<Future<double[]>> fs = new ArrayList<>();
    if (dynamic(s)) {
      // What the gateway answers from: the route record. One pipelined EXISTS per due workspace every
      // 10 ms costs Redis next to nothing, so its resolution does not depend on the API under load.
      exec.submit(() -> {
        while (!recordGone.keySet().containsAll(users) && System.currentTimeMillis() < until) {
          List<String> dueNow = new ArrayList<>();
          for (String u : users) {
            if (!recordGone.containsKey(u) && System.currentTimeMillis() >= due.get(u) - DUE_MARGIN_MS) {
              dueNow.add(u);
            }
          }
          if (!dueNow.isEmpty()) {
            long at = System.currentTimeMillis();
            List<redis.clients.jedis.Response<Boolean>> answers = new ArrayList<>();
            try (redis.clients.jedis.AbstractPipeline p = s.stack.redis().pipelined()) {
              for (String u : dueNow) {
                answers.add(p.exists(s.stack.keys().route(Labels.labelFor(u))));
              }
              p.sync();
            }
            for (int i = 0; i < dueNow.size(); i++) {
              if (!answers.get(i).get()) {
                recordGone.put(dueNow.get(i), at);
              }
            }
          }
          BenchStack.sleep(RECORD_POLL_MS);
        }
        return null;
      });
    }
    for (int t = 0; t < threads; t++) {
      List<String> part = new ArrayList<>();
      for (int i = t; i < users.size(); i += threads) {
        part.add(users.get(i));
      }
      fs.add(exec.submit(() -> {
        double sweeps = 0;
        long t0 = System.nanoTime();
        while (gone.keySet().containsAll(part) == false && System.currentTimeMillis() < until) {
          long sweepStart = System.currentTimeMillis();
          for (String u : part) {
            // Only workspaces near their deadline: the polls go through Nginx to the API, on the same cores.
            if (gone.containsKey(u) || System.currentTimeMillis() < due.get(u) - DUE_MARGIN_MS) {
              continue;
            }
            long at = System.currentTimeMillis();
            if (!routed(s, u)) {
              gone.put(u, at);
            } else {
              lastRouted.merge(u, at, Math::max);
            }
          }
          sweeps++;
          long rest = SWEEP_MIN_MS - (System.currentTimeMillis() - sweepStart);
          if (rest > 0) {
            BenchStack.sleep(rest);
          }
        }
        return new double[] {sweeps, (System.nanoTime() - t0) / 1e6};
      }));
    }
    double total = 0;
    double count = 0;
    for (Future<double[]> f : fs) {
      double[] r = f.get(Math.max(1, until - System.currentTimeMillis()) + 30_000, TimeUnit.MILLISECONDS);
      total += r[1];
      count += r[0];
    }
    exec.shutdownNow();
    sweepMillis = count == 0 ? 0 : total / count;
    return gone;
  }

  private static WorkspaceView finalView(BenchStack s, String user, long resultsBy) {
    WorkflowStub stub = s.stack.temporal().client().newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user));
    try {
      return stub.getResult(Math.max(1, resultsBy - System.currentTimeMillis()), TimeUnit.MILLISECONDS,
          WorkspaceView.class);
    } catch (TimeoutException e) {
      return stub.query("view", WorkspaceView.class);
    }
  }

  /**
   * Server times from the last run's history: [0] when its UnrouteWorkspace activity completed,
   * [1] when its last ReclaimAt (armed reclaim) started on the worker, [2] when the armed reclaim's
   * check ran and removed the route (the worker's clock, from its result); 0 when absent.
   */
  private static long[] historyTimes(BenchStack s, String user) {
    Set<Long> unroutes = new HashSet<>();
    Set<Long> reclaims = new HashSet<>();
    long[] times = new long[3];
    for (HistoryEvent e : s.stack.temporal().client().fetchHistory(WorkspaceWorkflow.idFor(user)).getEvents()) {
      long at = e.getEventTime().getSeconds() * 1000 + e.getEventTime().getNanos() / 1_000_000;
      if (e.hasActivityTaskScheduledEventAttributes()) {
        String type = e.getActivityTaskScheduledEventAttributes().getActivityType().getName();
        if ("UnrouteWorkspace".equals(type)) {
          unroutes.add(e.getEventId());
        } else if ("ReclaimAt".equals(type)) {
          reclaims.add(e.getEventId());
        }
      } else if (e.hasActivityTaskCompletedEventAttributes()
          && unroutes.contains(e.getActivityTaskCompletedEventAttributes().getScheduledEventId())) {
        times[0] = at;
      } else if (e.hasActivityTaskStartedEventAttributes()
          && reclaims.contains(e.getActivityTaskStartedEventAttributes().getScheduledEventId())) {
        times[1] = at;
      } else if (e.hasActivityTaskCompletedEventAttributes()
          && reclaims.contains(e.getActivityTaskCompletedEventAttributes().getScheduledEventId())) {
        ReclaimOutcome outcome = DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(0,
            Optional.of(e.getActivityTaskCompletedEventAttributes().getResult()), ReclaimOutcome.class,
            ReclaimOutcome.class);
        if (outcome != null && outcome.reclaimed()) {
          times[2] = outcome.decidedAtMillis();
        }
      }
    }
    return times;
  }

  private static boolean routed(BenchStack s, String user) {
    try {
      GatewayClient.Answer a = GatewayClient.get("127.0.0.1", s.gatewayPort, s.hostname(user), "/.berth/route",
          Duration.ofSeconds(2));
      return Labels.labelFor(user).equals(a.header("X-Berth-Route"));
    } catch (IOException e) {
      return true; // unknown: keep polling
    }
  }
}
