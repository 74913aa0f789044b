package io.berth.stack.bench;

import io.berth.stack.temporal.SteppedClock;
import io.berth.testkit.FreePorts;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code demand} (issue 18): one generated day of arrivals ({@link DemandDay}) replayed on one
 * stack with a stepped workflow clock, once per strategy: each strategy is a template of its own
 * (its own pool, host group and controller) and every arrival of the day comes to every template,
 * as a different user, at the same minute. Fixed spares at several counts, schedules that follow the
 * day's shape, and the same schedules with a demand rule, side by side: warm-hit ratio, p95 time to
 * READY, idle spare-host-hours.
 */
final class DemandScenario {
  /** A Monday, UTC: the schedules' hours of the week fall on a working day. */
  static final Instant MONDAY = Instant.parse("2026-12-07T00:00:00Z");
  /** The workflow clock starts half an hour before the day, for the pools to fill. */
  static final int WARM_UP_MINUTES = 30;
  static final Duration STEP = Duration.ofMinutes(1);
  static final int MAX_HOSTS = 40;
  /**
   * The controllers' timer: a host launched in a step serves as a spare from the next pass (a timer
   * or a poke), so this is also the longest simulated boot. Each pass costs real time: 2 min keeps
   * six controllers' day within minutes on two cores.
   */
  static final Duration RECONCILE = Duration.ofMinutes(2);
  /**
   * The schedules of {@code sched} and {@code sched-demand}, written from the recorded shape of the
   * day ({@link DemandDay}, UTC): a base of 2 at the edges of the day, 4 through the working hours,
   * 16 through 14:00–15:59 for the 15:00 burst of 15 (a schedule starts at its hour's first pass, so
   * it leads the burst by an hour; a spare claimed in the burst is not back before its second minute).
   */
  static final int BASE = 2;
  static final String SCHEDULES = "[{name: working, cron: \"* 7-13 * * 1-5\", spares: 4}, "
      + "{name: peak, cron: \"* 14-15 * * 1-5\", spares: 16}, {name: afternoon, cron: \"* 16-18 * * 1-5\", spares: 4}]";
  static final String SCHEDULES_SHORT = "base 2; 07–13 h 4, 14–15 h 16, 16–18 h 4";
  /** On top of the schedules: the claim rate times 5 minutes (a host's boot and a pass, with margin), plus misses. */
  static final String DEMAND = "{horizon: 5m, max: 16}";
  static final String DEMAND_SHORT = "demand: horizon 5 min, max 16";

  /** One strategy: a template of the templates file. {@code fixedSpares}: the count of a fixed one, else -1. */
  record Strategy(String name, int fixedSpares, String rules, String summary) {}

  /** One user of one strategy; its outcome once READY (or given up). */
  private static final class Visit {
    final Strategy strategy;
    final String user;
    final DemandDay.Arrival arrival;
    volatile boolean ready;
    volatile boolean due;
    volatile boolean released;
    volatile boolean cold;
    volatile boolean failed;
    volatile double millis;
    /** From the first progress step to the last, on the workflow clock (a cold start's wait in simulated time). */
    volatile double clockMillis;

    Visit(Strategy strategy, String user, DemandDay.Arrival arrival) {
      this.strategy = strategy;
      this.user = user;
      this.arrival = arrival;
    }
  }

  private static final Pattern STEP_AT = Pattern.compile("\\{\"step\":\"[a-z]+\",\"status\":\"[a-z]+\",\"at\":\"([^\"]+)\"");

  /** Milliseconds from the first progress step to the last, by their workflow-clock times. */
  static double stepsSpan(String json) {
    Matcher m = STEP_AT.matcher(json);
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    while (m.find()) {
      long at = Instant.parse(m.group(1)).toEpochMilli();
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    return first == Long.MAX_VALUE ? Double.NaN : last - first;
  }

  static List<Strategy> strategies(int[] fixedCounts) {
    List<Strategy> out = new ArrayList<>();
    for (int n : fixedCounts) {
      out.add(new Strategy("fixed-" + n, n, "spares: " + n, n + " spares all day"));
    }
    String scheduled = "spares: " + BASE + ", timeZone: UTC, schedules: " + SCHEDULES;
    out.add(new Strategy("sched", -1, scheduled, SCHEDULES_SHORT));
    out.add(new Strategy("sched-demand", -1, scheduled + ", demand: " + DEMAND, SCHEDULES_SHORT + "; " + DEMAND_SHORT));
    return out;
  }

  void run(Report report, long seed, int[] fixedCounts) throws Exception {
    Report.Section sec = report.section("demand", "Demand: fixed spares, schedules and demand over one day");
    DemandDay day = DemandDay.generate(seed);
    List<Strategy> strategies = strategies(fixedCounts);
    Path www = Templates.www();
    Process shared = null;
    String socat = Templates.socat();
    String python = Templates.python();
    if (python == null) {
      throw new IllegalStateException("demand needs python3 for light workspaces");
    }
    String command;
    if (socat != null) {
      int port = FreePorts.next();
      shared = new ProcessBuilder(python, "-m", "http.server", String.valueOf(port), "--bind", "127.0.0.1",
          "--directory", www.toString()).redirectErrorStream(true).redirectOutput(www.resolve("server.log").toFile())
          .start();
      command = socat + " TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:" + port;
    } else {
      command = Templates.pythonCommand(www);
    }
    Path file = www.resolve("templates.yml");
    Files.writeString(file, templatesFile(strategies, command));
    Map<String, String> env = new HashMap<>();
    env.put("BERTH_TEMPLATES_FILE", file.toString());
    env.put("BERTH_TEMPLATE", strategies.get(0).name());
    env.put("BERTH_TEMPLATES", String.join(",", strategies.stream().map(Strategy::name).toList()));
    env.put("BERTH_TEMPORAL_CLOCK_START", MONDAY.plus(Duration.ofMinutes(day.startMinute() - WARM_UP_MINUTES)).toString());
    // Sessions end by release only: nothing idles out or expires while the clock jumps.
    env.put("BERTH_IDLE_TIMEOUT", "PT20H");
    env.put("BERTH_MAX_LIFETIME", "PT24H");
    env.put("BERTH_COLD_START_TIMEOUT", "PT30M");
    env.put("BERTH_ALLOCATE_WAIT", "PT1S");
    env.put("BERTH_RECONCILE_INTERVAL", RECONCILE.toString());
    // Every controller refills its pool in one pass: with the default step of 2, a pool emptied by a
    // burst would refill over several passes whatever the rule that asked for the spares.
    env.put("BERTH_SCALE_OUT_STEP", "10");
    System.out.println("bench: starting the demand stack (" + strategies.size() + " templates, stepped clock)");
    try (BenchStack s = BenchStack.start(env); SteppedClock clock = new SteppedClock(s.stack.embeddedTemporal())) {
      Replay replay = new Replay(s, clock, day, strategies);
      replay.warmUp();
      replay.run();
      write(sec, day, strategies, replay, command.contains("socat"));
    } finally {
      if (shared != null) {
        shared.destroy();
      }
      BenchStack.deleteTree(www);
    }
    Report.print(sec);
  }

  static String templatesFile(List<Strategy> strategies, String command) {
    StringBuilder y = new StringBuilder("default: " + strategies.get(0).name() + "\ntemplates:\n");
    for (Strategy st : strategies) {
      y.append("  ").append(st.name()).append(": {kind: command, command: \"").append(command.replace("\"", "\\\""))
          .append("\", minHosts: 0, maxHosts: ").append(MAX_HOSTS).append(", slotsPerHost: 1, ").append(st.rules())
          .append("}\n");
    }
    return y.toString();
  }

  /** The day on the stepped clock: a step, then its releases and arrivals, sampled at each step. */
  private static final class Replay {
    final BenchStack s;
    final SteppedClock clock;
    final DemandDay day;
    final List<Strategy> strategies;
    final Map<String, DemandMetrics.SpareHours> spares = new LinkedHashMap<>();
    final Map<String, List<Visit>> visits = new LinkedHashMap<>();
    final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    final ExecutorService exec = Executors.newFixedThreadPool(160, r -> {
      Thread t = new Thread(r, "bench-demand-user");
      t.setDaemon(true);
      return t;
    });
    double realSeconds;
    long started;
    /** Real time spent advancing the clock, waiting for the POSTs, waiting for hosts. */
    long advanceNanos;
    long answerNanos;
    long settleNanos;
    final AtomicInteger slowSteps = new AtomicInteger();

    Replay(BenchStack s, SteppedClock clock, DemandDay day, List<Strategy> strategies) {
      this.s = s;
      this.clock = clock;
      this.day = day;
      this.strategies = strategies;
      for (Strategy st : strategies) {
        spares.put(st.name(), new DemandMetrics.SpareHours());
        List<Visit> vs = new ArrayList<>();
        for (int i = 0; i < day.arrivals().size(); i++) {
          vs.add(new Visit(st, st.name() + "-u" + i, day.arrivals().get(i)));
        }
        visits.put(st.name(), vs);
      }
    }

    /** The half hour before the day: the pools fill on the stepped clock (a pass is a timer). */
    void warmUp() {
      long dayStart = MONDAY.toEpochMilli() + day.startMinute() * 60_000L;
      for (int m = WARM_UP_MINUTES; m > 0; m--) {
        clock.advance(Duration.ofMillis(dayStart - m * 60_000L - clock.nowMillis()), Duration.ofMinutes(2));
        settle();
      }
      for (Strategy st : strategies) {
        long want = Math.max(1, st.fixedSpares());
        if (s.spares(st.name()) < want) {
          throw new IllegalStateException("only " + s.spares(st.name()) + " of " + want + " " + st.name()
              + " spares after the warm-up");
        }
      }
    }

    void run() throws InterruptedException {
      long t0 = System.nanoTime();
      started = t0;
      long dayStart = MONDAY.toEpochMilli();
      for (int m = day.startMinute(); m < day.endMinute(); m++) {
        long at = dayStart + m * 60_000L;
        long a0 = System.nanoTime();
        clock.advance(Duration.ofMillis(at - clock.nowMillis()), Duration.ofMinutes(2));
        advanceNanos += System.nanoTime() - a0;
        sample(at);
        CountDownLatch answered = new CountDownLatch(day.at(m).size() * strategies.size());
        releaseDue(m);
        for (Strategy st : strategies) {
          for (Visit v : visits.get(st.name())) {
            if (v.arrival.minute() == m) {
              exec.submit(() -> visit(v, answered));
            }
          }
        }
        long w0 = System.nanoTime();
        if (!answered.await(60, TimeUnit.SECONDS)) {
          slowSteps.incrementAndGet();
        }
        long s0 = System.nanoTime();
        answerNanos += s0 - w0;
        settle();
        settleNanos += System.nanoTime() - s0;
        if (m % 60 == 59) {
          progress(m);
        }
      }
      long end = dayStart + day.endMinute() * 60_000L;
      clock.advance(Duration.ofMillis(end - clock.nowMillis()), Duration.ofMinutes(2));
      sample(end);
      spares.values().forEach(h -> h.closeAt(end));
      realSeconds = (System.nanoTime() - t0) / 1e9;
      // The day is over: a cold start still waiting counts as not READY; the stack's close ends the rest.
      exec.shutdownNow();
    }


    private void sample(long at) {
      for (Strategy st : strategies) {
        spares.get(st.name()).sample(at, (int) s.spares(st.name()));
      }
    }

    private void releaseDue(int minute) {
      for (List<Visit> vs : visits.values()) {
        for (Visit v : vs) {
          if (!v.due && v.arrival.endMinute() <= minute) {
            v.due = true;
            if (v.ready) {
              release(v);
            }
          }
        }
      }
    }

    private synchronized void release(Visit v) {
      if (v.released) {
        return;
      }
      v.released = true;
      try {
        HttpResponse<String> r = s.release(v.user);
        if (r.statusCode() >= 400 && r.statusCode() != 404) {
          errors.add(v.user + " release: " + r.statusCode() + " " + r.body());
        }
      } catch (RuntimeException e) {
        errors.add(v.user + " release: " + e);
      }
    }

    /** POST, counted as answered once the POST returns; then GET until READY (bounded). */
    private void visit(Visit v, CountDownLatch answered) {
      long t0 = System.nanoTime();
      boolean counted = false;
      try {
        HttpResponse<String> r = s.allocate(v.user, v.strategy.name());
        answered.countDown();
        counted = true;
        long bound = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (!BenchStack.ready(r) && System.nanoTime() < bound) {
          String state = BenchStack.field(r.body(), "state");
          if (r.statusCode() >= 400 || "FAILED".equals(state)) {
            break;
          }
          BenchStack.sleep(50);
          r = s.me(v.user);
        }
        if (!BenchStack.ready(r)) {
          v.failed = true;
          errors.add(v.user + ": " + r.statusCode() + " " + r.body());
          return;
        }
        v.millis = (System.nanoTime() - t0) / 1e6;
        v.cold = r.body().contains("\"step\":\"capacity\"");
        v.clockMillis = stepsSpan(r.body());
        v.ready = true;
        if (v.due) {
          release(v);
        }
      } catch (RuntimeException e) {
        v.failed = true;
        errors.add(v.user + ": " + e);
      } finally {
        if (!counted) {
          answered.countDown();
        }
      }
    }

    /** Hosts launched in this step come up before the clock moves on (bounded): boot time is not the clock's. */
    private void settle() {
      BenchStack.await(Duration.ofSeconds(10), () -> s.stack.worker().fleet().describe().hosts().stream()
          .noneMatch(h -> "PENDING".equals(h.state())));
    }

    private void progress(int minute) {
      StringBuilder line = new StringBuilder(String.format("bench: demand %02d:00 (%.0f s: clock %.0f s, POSTs %.0f s, "
              + "hosts %.0f s)", (minute + 1) / 60, (System.nanoTime() - started) / 1e9, advanceNanos / 1e9,
          answerNanos / 1e9, settleNanos / 1e9));
      for (Strategy st : strategies) {
        long warm = visits.get(st.name()).stream().filter(v -> v.ready && !v.cold).count();
        long done = visits.get(st.name()).stream().filter(v -> v.arrival.minute() <= minute).count();
        line.append(String.format("; %s %d/%d warm, %.1f h", st.name(), warm, done, spares.get(st.name()).hours()));
      }
      System.out.println(line);
    }

    DemandMetrics.Outcome outcome(Strategy st) {
      List<Visit> vs = visits.get(st.name());
      int warm = (int) vs.stream().filter(v -> v.ready && !v.cold).count();
      int failed = (int) vs.stream().filter(v -> v.failed).count();
      Stats ready = Stats.of(vs.stream().filter(v -> v.ready).map(v -> v.millis).toList());
      return new DemandMetrics.Outcome(st.name(), st.fixedSpares(), vs.size(), warm, failed, ready.p(95),
          spares.get(st.name()).hours());
    }

    Stats onClock(Strategy st) {
      return Stats.of(visits.get(st.name()).stream().filter(v -> v.ready && !Double.isNaN(v.clockMillis))
          .map(v -> v.clockMillis).toList());
    }
  }

  /** Simulated time: minutes and seconds past a minute, else milliseconds. */
  static String clock(double millis) {
    return millis >= 60_000 ? String.format("%.1f min", millis / 60_000) : Stats.ms(millis);
  }

  private static void write(Report.Section sec, DemandDay day, List<Strategy> strategies, Replay replay,
                            boolean socat) {
    sec.text(String.format("A generated day (seed-fixed): %d arrivals from %02d:00 to %02d:00, by hour %s, "
            + "a burst of %d within %d minutes at %02d:00 among them; each user stays %d–%d min, then releases. Every arrival "
            + "comes to every strategy at the same minute (one template each: its own pool, host group and "
            + "controller; `command` template, %s, one slot per host, max %d hosts). The workflow clock is Temporal's "
            + "test server stepped by %d min (%d steps, %.0f s real): each step fires the timers it spans, then the "
            + "step's releases and arrivals go through the API, and hosts launched in the step come up before the "
            + "next (host boot is not on the clock; a spare appears at the controller's next pass: a poke, or its timer every "
            + RECONCILE.toMinutes() + " min). "
            + "Warm hit = the workspace claimed a spare without waiting for capacity; time to READY is POST → "
            + "READY on the wall clock (a cold start waits for the next steps), and from the workspace's first progress "
            + "step to READY on the workflow clock (a cold start's wait in the day's time); idle spare-host-hours = "
            + "ready spares in the pool sampled at each step, × time.",
        day.arrivals().size(), day.firstHour(), day.endHour(), java.util.Arrays.toString(day.perHour()),
        DemandDay.BURST_SIZE, DemandDay.BURST_MINUTES, DemandDay.BURST_HOUR, DemandDay.SESSION_MIN,
        DemandDay.SESSION_MAX, socat ? "one `socat` per slot forwarding to a shared `python3 -m http.server`"
            : "`python3 -m http.server` per slot", MAX_HOSTS, STEP.toMinutes(), day.endMinute() - day.startMinute(),
        replay.realSeconds));
    List<List<String>> rows = new ArrayList<>();
    List<DemandMetrics.Outcome> outcomes = new ArrayList<>();
    for (Strategy st : strategies) {
      DemandMetrics.Outcome o = replay.outcome(st);
      outcomes.add(o);
      rows.add(List.of(st.name(), st.summary(), o.warm() + "/" + o.arrivals(), DemandMetrics.pct(o.warmRatio()),
          String.valueOf(o.failed()), Stats.ms(o.p95Millis()), clock(replay.onClock(st).p(95)),
          String.format("%.1f", o.spareHours()),
          String.valueOf(replay.spares.get(st.name()).peak())));
    }
    sec.table(List.of("strategy", "rules", "warm hits", "warm %", "failed", "p95 to READY (wall)",
        "p95 to READY (workflow clock)", "idle spare-host-hours", "peak spares"), rows);
    DemandMetrics.Outcome demand = outcomes.get(outcomes.size() - 1);
    DemandMetrics.Goal goal = DemandMetrics.goal(demand, outcomes);
    sec.verdict(goal.line());
    sec.target(demand.strategy() + " warm-hit ratio", 100 * demand.warmRatio(), 100 * DemandMetrics.GOAL_WARM, " %",
        false);
    goal.match().ifPresent(f -> sec.target(demand.strategy() + ": fewer idle spare-host-hours than " + f.strategy()
        + " (the smallest fixed count at its warm-hit ratio)", 100 * goal.saving(), 100 * DemandMetrics.GOAL_SAVING,
        " %", false));
    if (!replay.errors.isEmpty()) {
      sec.text(replay.errors.size() + " errors, first: " + replay.errors.peek());
    }
    if (replay.slowSteps.get() > 0) {
      sec.text(replay.slowSteps.get() + " steps waited over 60 s for their POSTs to answer.");
    }
  }
}
