package io.berth.stack.bench;

import io.berth.workflows.model.CapacityStatus;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.Slot;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code capacity} (issue 4): a burst of 50 users against 5 spares on the local provider with the
 * product's controller settings, then a compressed "day" of arrivals with the fleet sampled.
 */
final class CapacityScenario {
  /** Arrivals per hour of the scripted day (a working day: morning peak, lunch dip, afternoon). */
  static final int[] ARRIVALS = {0, 0, 0, 0, 0, 0, 0, 1, 4, 8, 6, 4, 2, 5, 4, 3, 2, 1, 1, 0, 0, 0, 0, 0};
  static final long HOUR_MS = 5_000;

  private record Outcome(double millis, boolean cold, boolean ok, String error, Map<String, Double> steps) {
    Outcome(double millis, boolean cold, boolean ok, String error) {
      this(millis, cold, ok, error, Map.of());
    }
  }

  private static final java.util.regex.Pattern STEP = java.util.regex.Pattern.compile(
      "\\{\"step\":\"([a-z]+)\",\"status\":\"([a-z]+)\",\"at\":\"([^\"]+)\"");

  /**
   * Each step's time from the workspace's own progress steps: from its first entry to its "done"
   * when it reports one (steps that run side by side do), else to the next entry.
   */
  static Map<String, Double> stepTimes(String json) {
    record Entry(String step, String status, long at) {}
    List<Entry> entries = new ArrayList<>();
    java.util.regex.Matcher m = STEP.matcher(json);
    while (m.find()) {
      entries.add(new Entry(m.group(1), m.group(2), java.time.Instant.parse(m.group(3)).toEpochMilli()));
    }
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < entries.size(); i++) {
      Entry start = entries.get(i);
      if (out.containsKey(start.step())) {
        continue;
      }
      long end = entries.get(i + 1).at();
      for (int j = i + 1; j < entries.size(); j++) {
        if (entries.get(j).step().equals(start.step()) && entries.get(j).status().equals("done")) {
          end = entries.get(j).at();
          break;
        }
      }
      out.put(start.step(), (double) (end - start.at()));
    }
    return out;
  }

  void run(Report report, int burst) throws Exception {
    Report.Section sec = report.section("capacity", "Capacity: burst and a compressed day");
    burst(sec, burst);
    day(sec);
    Report.print(sec);
  }

  // ---- burst -------------------------------------------------------------------------------------

  private void burst(Report.Section sec, int users) throws Exception {
    ActivityTimer timer = new ActivityTimer();
    Map<String, Long> firstSpare = new ConcurrentHashMap<>();
    timer.onCompleted((type, args) -> {
      if ("AddSpares".equals(type) && args.length > 1 && args[1] instanceof List<?> slots) {
        long now = System.currentTimeMillis();
        for (Object o : slots) {
          if (o instanceof Slot s) {
            firstSpare.putIfAbsent(s.hostId(), now);
          }
        }
      }
    });
    Map<String, String> env = new HashMap<>();
    env.put("BERTH_SPARES", "5");
    env.put("BERTH_MAX_HOSTS", "60");
    System.out.println("bench: starting the capacity stack (demo template, 5 spares, product controller settings)");
    try (BenchStack s = BenchStack.start(env, timer)) {
      s.awaitSpares(5, Duration.ofMinutes(2));
      BenchStack.sleep(3_000); // let the controller settle at 5 spares
      Map<Long, ScalingDecision> decisions = new TreeMap<>();
      AtomicBoolean sampling = new AtomicBoolean(true);
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          try {
            s.capacity().decisions().forEach(d -> decisions.putIfAbsent(d.atMillis(), d));
          } catch (RuntimeException e) {
            // a query racing a continue-as-new: next sample
          }
          BenchStack.sleep(500);
        }
      }, "bench-capacity-sampler");
      sampler.start();
      long t0 = System.currentTimeMillis();
      List<Outcome> outcomes = arrive(s, "burst", users);
      long allReady = System.currentTimeMillis() - t0;
      sampling.set(false);
      sampler.join(5_000);
      s.capacity().decisions().forEach(d -> decisions.putIfAbsent(d.atMillis(), d));

      List<Double> decisionToSpare = new ArrayList<>();
      List<Double> launchToSpare = new ArrayList<>();
      List<ScalingDecision> outs = decisions.values().stream()
          .filter(d -> "scale-out".equals(d.action()) && d.atMillis() >= t0).toList();
      for (Host h : s.stack.worker().fleet().describe().hosts()) {
        Long ready = firstSpare.get(h.hostId());
        if (h.launchedAtMillis() < t0 || ready == null) {
          continue;
        }
        launchToSpare.add((double) (ready - h.launchedAtMillis()));
        outs.stream().filter(d -> d.atMillis() <= h.launchedAtMillis() + 50).reduce((a, b) -> b)
            .ifPresent(d -> decisionToSpare.add((double) (ready - d.atMillis())));
      }
      Stats all = Stats.of(outcomes.stream().filter(Outcome::ok).map(Outcome::millis).toList());
      Stats warm = Stats.of(outcomes.stream().filter(o -> o.ok() && !o.cold()).map(Outcome::millis).toList());
      Stats cold = Stats.of(outcomes.stream().filter(o -> o.ok() && o.cold()).map(Outcome::millis).toList());
      long failed = outcomes.stream().filter(o -> !o.ok()).count();
      outcomes.stream().filter(o -> !o.ok()).findFirst()
          .ifPresent(o -> System.out.println("bench: burst: " + o.error()));
      Stats d2s = Stats.of(decisionToSpare);
      Stats l2s = Stats.of(launchToSpare);
      sec.text(users + " users POST at once against 5 warm spares; demo template (one JVM per slot), one slot per "
          + "host, max 60 hosts, and the product's controller settings (reconcile every 10 s and on pokes, every 1 s "
          + "while requests wait for hosts coming up; scale-out step 2, and while requests wait ceil(waiting / slots "
          + "per host) up to BERTH_SCALE_OUT_MAX_STEP 10, cooldown 180 s (not while requests wait), allocate wait "
          + "10 s). A user whose POST answers 202 polls GET /api/workspaces/me "
          + "every 200 ms; latency is until READY. Cold = the workspace's steps include the capacity wait.");
      sec.table(List.of("burst of " + users, "n", "p50", "p95", "p99", "max"), List.of(
          List.of("all (POST → READY)", String.valueOf(all.n()), Stats.ms(all.p(50)), Stats.ms(all.p(95)),
              Stats.ms(all.p(99)), Stats.ms(all.max())),
          List.of("warm hits", String.valueOf(warm.n()), Stats.ms(warm.p(50)), Stats.ms(warm.p(95)),
              Stats.ms(warm.p(99)), Stats.ms(warm.max())),
          List.of("cold (waited for capacity)", String.valueOf(cold.n()), Stats.ms(cold.p(50)), Stats.ms(cold.p(95)),
              Stats.ms(cold.p(99)), Stats.ms(cold.max())),
          List.of("scale-out decision → new host's spare in the pool", String.valueOf(d2s.n()), Stats.ms(d2s.p(50)),
              Stats.ms(d2s.p(95)), Stats.ms(d2s.p(99)), Stats.ms(d2s.max())),
          List.of("host launched → its spare in the pool", String.valueOf(l2s.n()), Stats.ms(l2s.p(50)),
              Stats.ms(l2s.p(95)), Stats.ms(l2s.p(99)), Stats.ms(l2s.max()))));
      StringBuilder where = new StringBuilder("Warm hits, median time per saga step (workflow clock, from the "
          + "workspace's progress steps):");
      for (String step : List.of("claim", "probe", "tag", "protect", "dns", "route", "session")) {
        Stats st = Stats.of(outcomes.stream().filter(o -> o.ok() && !o.cold() && o.steps().containsKey(step))
            .map(o -> o.steps().get(step)).toList());
        where.append(' ').append(step).append(' ').append(Stats.ms(st.p(50))).append(',');
      }
      sec.text(where.substring(0, where.length() - 1) + ".");
      String steps = outs.stream().map(d -> d.fromHosts() + "→" + d.toHosts()).reduce((a, b) -> a + ", " + b)
          .orElse("none");
      sec.verdict(String.format("warm-hit ratio %d/%d = %.0f%%; %d failed; all %d READY after %.1f s; %d scale-out "
              + "decisions (%s)", warm.n(), users, 100.0 * warm.n() / users, failed, all.n(), allReady / 1000.0,
          outs.size(), steps));
    }
  }

  /** {@code n} users allocate at once; each polls until READY (bounded). */
  private static List<Outcome> arrive(BenchStack s, String prefix, int n) throws Exception {
    ExecutorService exec = Executors.newFixedThreadPool(n);
    try {
      List<Future<Outcome>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String user = prefix + "-" + i;
        fs.add(exec.submit(() -> allocateUntilReady(s, user)));
      }
      List<Outcome> out = new ArrayList<>();
      for (Future<Outcome> f : fs) {
        out.add(f.get(10, TimeUnit.MINUTES));
      }
      return out;
    } finally {
      exec.shutdownNow();
    }
  }

  private static Outcome allocateUntilReady(BenchStack s, String user) {
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> r = s.allocate(user);
      long bound = System.nanoTime() + Duration.ofMinutes(6).toNanos();
      while (!BenchStack.ready(r) && System.nanoTime() < bound) {
        String state = BenchStack.field(r.body(), "state");
        if (r.statusCode() >= 400 || "FAILED".equals(state)) {
          return new Outcome(0, false, false, user + ": " + r.statusCode() + " " + r.body());
        }
        BenchStack.sleep(200);
        r = s.me(user);
      }
      double ms = (System.nanoTime() - t0) / 1e6;
      if (!BenchStack.ready(r)) {
        return new Outcome(ms, false, false, user + ": not READY within 6 min");
      }
      return new Outcome(ms, r.body().contains("\"step\":\"capacity\""), true, null, stepTimes(r.body()));
    } catch (RuntimeException e) {
      return new Outcome(0, false, false, user + ": " + e);
    }
  }

  // ---- the day ------------------------------------------------------------------------------------

  private void day(Report.Section sec) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("BERTH_SPARES", "3");
    env.put("BERTH_MAX_HOSTS", "40");
    env.put("BERTH_RECONCILE_INTERVAL", "PT2S");
    env.put("BERTH_SCALE_OUT_COOLDOWN", "PT10S");
    env.put("BERTH_SCALE_IN_STABLE_WINDOW", "PT15S");
    env.put("BERTH_ALLOCATE_WAIT", "PT10S");
    System.out.println("bench: starting the day stack (demo template, 3 spares, compressed timers)");
    try (BenchStack s = BenchStack.start(env)) {
      s.awaitSpares(3, Duration.ofMinutes(2));
      Random random = new Random(42);
      List<long[]> plan = new ArrayList<>(); // {at ms, session ms}
      for (int h = 0; h < ARRIVALS.length; h++) {
        for (int k = 0; k < ARRIVALS[h]; k++) {
          plan.add(new long[] {h * HOUR_MS + (long) (random.nextDouble() * HOUR_MS),
              2 * HOUR_MS + (long) (random.nextDouble() * 2 * HOUR_MS)});
        }
      }
      ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
      AtomicInteger arrived = new AtomicInteger();
      ExecutorService exec = Executors.newFixedThreadPool(plan.size());
      long start = System.currentTimeMillis();
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < plan.size(); i++) {
        String user = "day-" + i;
        long[] p = plan.get(i);
        fs.add(exec.submit(() -> {
          sleepUntil(start + p[0]);
          arrived.incrementAndGet();
          Outcome o = allocateUntilReady(s, user);
          outcomes.add(o);
          if (o.ok()) {
            sleepUntil(System.currentTimeMillis() + p[1]);
            s.release(user);
          }
          return null;
        }));
      }
      List<List<String>> rows = new ArrayList<>();
      int peakHosts = 0;
      for (int h = 0; h <= 24; h++) {
        sleepUntil(start + h * HOUR_MS);
        CapacityStatus c = s.capacity();
        peakHosts = Math.max(peakHosts, c.actual());
        rows.add(List.of(String.format("%02d:00", h), String.valueOf(h < 24 ? ARRIVALS[h] : 0),
            String.valueOf(arrived.get()), String.valueOf(c.desired()), String.valueOf(c.actual()),
            String.valueOf(c.slotsUsed()), String.valueOf(c.sparesReady()), String.valueOf(c.provisioning())));
      }
      for (Future<?> f : fs) {
        f.get(5, TimeUnit.MINUTES);
      }
      exec.shutdownNow();
      Stats all = Stats.of(outcomes.stream().filter(Outcome::ok).map(Outcome::millis).toList());
      long cold = outcomes.stream().filter(o -> o.ok() && o.cold()).count();
      sec.text("A scripted day, 1 h = " + HOUR_MS / 1000 + " s: " + plan.size() + " users arrive by the curve "
          + java.util.Arrays.toString(ARRIVALS) + " (arrivals per hour) and each stays 2–4 h, then releases. 3 spares, "
          + "demo template, one slot per host, timers compressed like the day (reconcile 2 s, scale-out cooldown 10 s, "
          + "scale-in stable window 15 s = 3 h). Sampled at each hour from the capacity workflow's status.");
      sec.table(List.of("time", "arrivals this hour", "arrived so far", "desired", "actual hosts", "active", "spares",
          "waiting"), rows);
      sec.verdict(String.format("day: %d allocations, %d cold (%.0f%% warm), POST → READY p50 %s, p95 %s, max %s; "
              + "peak %d hosts", all.n(), cold, all.n() == 0 ? 0 : 100.0 * (all.n() - cold) / all.n(),
          Stats.ms(all.p(50)), Stats.ms(all.p(95)), Stats.ms(all.max()), peakHosts));
    }
  }

  private static void sleepUntil(long at) {
    long left = at - System.currentTimeMillis();
    if (left > 0) {
      BenchStack.sleep(left);
    }
  }
}
