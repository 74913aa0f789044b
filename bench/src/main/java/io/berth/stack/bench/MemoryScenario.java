package io.berth.stack.bench;

import com.sun.net.httpserver.HttpServer;
import io.berth.activities.dns.NoDns;
import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.activities.probe.HttpProbe;
import io.berth.activities.store.RedisStore;
import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.worker.TemporalConnection;
import io.berth.worker.WorkerConfig;
import io.berth.workflows.CapacityPokes;
import io.berth.workflows.SessionThenPoke;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.WorkspaceWorkflowImpl;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.FleetSnapshot;
import io.berth.workflows.model.Host;
import io.berth.workflows.model.PassViews;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.SlotStatus;
import io.berth.workflows.model.WorkspaceParams;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import redis.clients.jedis.RedisClient;

/**
 * {@code memory}: the worker JVM's heap with N idle workspaces tracked. The worker is wired like
 * BerthWorker (same workflow class, the real RedisStore, FleetActivitiesImpl, NoDns, HttpProbe)
 * except for two bench-only doubles — {@link NullFleet} (virtual slots) and {@link NullRoutes}
 * — and {@link IdleCapacityWorkflow}; Temporal's test server runs in a child process, so the
 * heap measured is the worker's, as it would be against a real cluster.
 */
final class MemoryScenario {
  static final String TEMPLATE = "demo";
  static final Duration IDLE = Duration.ofHours(12);
  static final int IN_FLIGHT = 200;
  static final int STALL_MINUTES = 2;
  static final int BUDGET_MINUTES = 20;
  private long lastHeap;
  private int lastCount;

  void run(Report report, int[] counts, int cacheSize) throws Exception {
    Path tmp = Files.createTempDirectory("berth-bench-mem");
    int temporalPort = FreePorts.next();
    Process server = new ProcessBuilder(javaBin(), "-Xmx6g", "-XX:+UseParallelGC", "-cp",
        System.getProperty("java.class.path"), TemporalServerMain.class.getName(), String.valueOf(temporalPort))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("temporal.log").toFile()).start();
    AutoCloseable stopServer = Cleanup.register(server::destroyForcibly);
    HttpServer tiny = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    tiny.createContext("/", ex -> {
      byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
      ex.sendResponseHeaders(200, ok.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(ok);
      }
    });
    tiny.start();
    try (PrivateRedis redisServer = Cleanup.register(PrivateRedis.start());
         RedisClient redis = RedisClient.create(redisServer.url())) {
      if (!BenchStack.await(Duration.ofSeconds(60), () -> listening(temporalPort))) {
        throw new IllegalStateException("the Temporal test server did not start (see " + tmp + "/temporal.log)");
      }
      WorkerConfig config = WorkerConfig.fromEnv(Map.of("BERTH_TEMPORAL_TARGET", "127.0.0.1:" + temporalPort,
          "BERTH_REDIS_URL", redisServer.url(), "BERTH_STATE_DIR", tmp.toString()));
      try (TemporalConnection temporal = TemporalConnection.open(config)) {
        measure(report, counts, cacheSize, temporal, redis, redisServer.url(), tmp, tiny.getAddress().getPort(),
            server);
      }
    } finally {
      tiny.stop(0);
      server.getOutputStream().close();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
      Cleanup.closed(stopServer);
      BenchStack.deleteTree(tmp);
    }
  }

  private void measure(Report report, int[] counts, int cacheSize, TemporalConnection temporal, RedisClient redis,
                       String redisUrl, Path stateDir, int tinyPort, Process server) throws Exception {
    WorkflowClient client = temporal.client();
    RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
    NullFleet fleet = new NullFleet(TEMPLATE, tinyPort, 64);
    RedisStore store = new RedisStore(redis, keys, fleet);
    int threads = Math.max(cacheSize, 600);
    ApplicationContext api = null;
    CapacityPokes pokes = new CapacityPokes(client);
    WorkerFactory factory = WorkerFactory.newInstance(client, WorkerFactoryOptions.newBuilder()
        .setWorkflowCacheSize(cacheSize).setMaxWorkflowThreadCount(threads).build());
    try {
      Worker worker = factory.newWorker(TaskQueues.BERTH);
      worker.registerWorkflowImplementationTypes(WorkspaceWorkflowImpl.class, IdleCapacityWorkflow.class);
      worker.registerActivitiesImplementations(store, new FleetActivitiesImpl(fleet, store::claimed), new NoDns(),
          new NullRoutes(), new HttpProbe(), pokes, new SessionThenPoke(store, pokes));
      factory.start();
      api = startApi(temporal, redis, keys, redisUrl, stateDir);
      CapacityWorkflow capacity = client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(CapacityWorkflow.ID).setTaskQueue(TaskQueues.BERTH).build());
      WorkflowClient.start(capacity::run, new CapacityParams(TEMPLATE, 0, 0, 0, 64, 1, 10, Duration.ofMinutes(10),
          Duration.ofMinutes(1), Duration.ofMinutes(5), 3, 100, false, CapacityMemory.empty()));
      List<List<String>> rows = new ArrayList<>();
      long base = usedHeapAfterGc();
      rows.add(row(0, base, base, server, 0));
      int tracked = 0;
      String stopped = null;
      List<String> beats = new ArrayList<>();
      for (int n : counts) {
        long t0 = System.nanoTime();
        store.addSpares(TEMPLATE, fleet.grow(n));
        try {
          startWorkspaces(client, redis, keys, tracked, n);
          long want = n;
          if (!BenchStack.await(Duration.ofMinutes(5), () -> redis.scard(keys.users()) >= want)) {
            throw new IllegalStateException("only " + redis.scard(keys.users()) + " of " + n + " sessions");
          }
        } catch (IllegalStateException e) {
          // Report what was reached rather than nothing: the heap at that count is still a figure.
          stopped = e.getMessage();
          n = (int) redis.scard(keys.users());
        }
        tracked = n;
        double secs = (System.nanoTime() - t0) / 1e9;
        beats.add(beatAll(api, fleet, client, n));
        BenchStack.sleep(2_000); // the last workflow tasks settle
        long used = usedHeapAfterGc();
        rows.add(row(n, used, base, server, secs));
        lastHeap = used;
        lastCount = n;
        System.out.printf("bench: memory: %,d idle workspaces, heap %.0f MB%n", n, used / 1e6);
        if (stopped != null) {
          break;
        }
      }
      double eventsPerSignal = eventsPerSignal(client, "mem-0", 20);
      Report.Section sec = report.section("memory", "Heap with idle workspaces");
      sec.text("Used heap after System.gc() (MemoryMXBean) of one JVM holding the worker and the API, with N READY "
          + "workspaces whose idle timer (12 h) is pending. The worker is wired like BerthWorker — the real "
          + "WorkspaceWorkflowImpl, RedisStore, FleetActivitiesImpl, NoDns and HttpProbe — with bench-only doubles "
          + "for what cannot exist 10,000 times here: `NullFleet` (virtual slots, all answering on one tiny HTTP "
          + "server), `NullRoutes` (no Nginx) and `IdleCapacityWorkflow` (accepts pokes, does nothing, continues as "
          + "new every " + IdleCapacityWorkflow.SIGNALS_PER_RUN + " signals). The API is the real one, started as "
          + "EmbeddedStack starts it, on the same Temporal and Redis; before each measurement every tracked "
          + "workspace posts one heartbeat through it with its own token (so the API has checked N tokens and sent "
          + "N signals, and the worker has handled them). Temporal's test server runs in a child process (its RSS "
          + "is shown, not counted), so the figure is worker + API, as against a real cluster; its debugging log of "
          + "time locks, which grew by ~34 entries per workspace and slowed every request, is switched off "
          + "(`TimeLockLog`, as in every embedded server). Sticky workflow "
          + "cache: `WorkerFactoryOptions.setWorkflowCacheSize(" + cacheSize + ")`, max workflow threads "
          + threads + " (" + (cacheSize == 600 ? "the SDK defaults; " : "") + "`--workflow-cache N` changes it). "
          + "Workspaces were started as workflows directly (WorkflowClient.start), at most " + IN_FLIGHT + " in their "
          + "saga at a time.");
      sec.table(List.of("idle workspaces", "worker + API heap after GC", "Δ heap vs 0", "per workspace",
          "live threads", "Temporal test server RSS (not counted)", "time to start them"), rows);
      beats.forEach(b -> sec.text("Heartbeat round at " + b + "."));
      if (stopped != null) {
        sec.verdict("stopped before the next count: " + stopped + " (within " + STALL_MINUTES
            + " min without a new session, or " + BUDGET_MINUTES + " min in all)");
      }
      sec.target("worker + API heap with " + String.format("%,d", lastCount) + " idle workspaces", lastHeap / 1e6, 1024,
          " MB", true);
      double perDay = 86_400 / 30.0;
      sec.text(String.format("History: %.1f events per heartbeat signal (measured: 20 signals to one idle workspace). "
              + "At the default window (idle 30 min / 10 → 30 s) a workspace heartbeating all day sends at most %,.0f "
              + "signals/day = %,.0f events/day; within the 12 h max lifetime, %,.0f events. The workflow continues "
              + "as new past 4,000 events, i.e. every ~%.1f h of continuous activity, so a run's history stays "
              + "below 4,000 + one window's events.",
          eventsPerSignal, perDay, eventsPerSignal * perDay, eventsPerSignal * perDay / 2,
          4000 / (eventsPerSignal * 120)));
      payloads(sec);
      Report.print(sec);
    } finally {
      if (api != null) {
        api.close();
      }
      factory.shutdownNow();
      pokes.close();
      factory.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The API in this JVM, as EmbeddedStack starts it, on the same Temporal and Redis: its heap is
   * counted with the worker's (the figure is worker + API).
   */
  private static ApplicationContext startApi(TemporalConnection temporal, RedisClient redis, RedisKeys keys,
                                             String redisUrl, Path stateDir) {
    Map<String, Object> p = new HashMap<>();
    p.put("BERTH_API_PORT", String.valueOf(FreePorts.next()));
    p.put("BERTH_REDIS_URL", redisUrl);
    p.put("BERTH_TEMPORAL_TARGET", temporal.target());
    p.put("BERTH_STATE_DIR", stateDir.toString());
    p.put("BERTH_ALLOCATE_RATE", "off");
    p.put("BERTH_IDLE_TIMEOUT", IDLE.toString());
    p.put("BERTH_TEMPLATE", TEMPLATE);
    p.put("BERTH_PUBLIC_URL", "http://{label}.localhost/");
    ApplicationContext api = ApplicationContext.builder().properties(p).singletons(temporal.client(), redis, keys)
        .deduceEnvironment(false).start();
    api.getBean(EmbeddedServer.class).start();
    return api;
  }

  /**
   * One {@code POST /api/heartbeat} per tracked workspace with its own token (16 connections), then
   * waits until the API's signals have reached the workflows: the API signals each workspace once
   * per coalescing window (here 30 s), from a bounded queue, so 10,000 beats are 10,000 signals.
   * Returns a line for the report.
   */
  private static String beatAll(ApplicationContext api, NullFleet fleet, WorkflowClient client, int n)
      throws Exception {
    String url = "http://127.0.0.1:" + api.getBean(EmbeddedServer.class).getPort() + "/api/heartbeat";
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    List<String> tokens = fleet.heartbeatTokens();
    AtomicInteger ok = new AtomicInteger();
    long t0 = System.nanoTime();
    Rounds.parallel(tokens, 16, token -> {
      HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build();
      if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 204) {
        ok.incrementAndGet();
      }
    });
    double beatSecs = (System.nanoTime() - t0) / 1e9;
    // The queue is FIFO: once the workspace beaten last has the signal, the others have theirs (or were dropped).
    long t1 = System.nanoTime();
    String last = WorkspaceWorkflow.idFor("mem-" + (n - 1));
    boolean arrived = BenchStack.await(Duration.ofMinutes(10), () -> client.fetchHistory(last).getEvents().stream()
        .anyMatch(e -> e.hasWorkflowExecutionSignaledEventAttributes()
            && "heartbeat".equals(e.getWorkflowExecutionSignaledEventAttributes().getSignalName())));
    String line = String.format("%,d: %,d of %,d heartbeats answered 204 in %.1f s; the signals %s %.0f s later",
        n, ok.get(), tokens.size(), beatSecs, arrived ? "had reached the workflows" : "had NOT all arrived",
        (System.nanoTime() - t1) / 1e9);
    System.out.println("bench: memory: " + line);
    return line;
  }

  /**
   * Starts workspaces {@code from..to-1}, at most {@value #IN_FLIGHT} in their saga at a time: all
   * at once would queue activities past the probe's 30 s schedule-to-close bound and fail them.
   */
  private static void startWorkspaces(WorkflowClient client, RedisClient redis, RedisKeys keys, int from, int to)
      throws Exception {
    long began = System.nanoTime();
    long lastProgress = began;
    long lastCount = -1;
    for (int batch = from; batch < to; batch += 100) {
      int end = Math.min(to, batch + 100);
      while (true) {
        long have = redis.scard(keys.users());
        if (have != lastCount) {
          lastCount = have;
          lastProgress = System.nanoTime();
        }
        if (have >= end - IN_FLIGHT) {
          break;
        }
        if (System.nanoTime() - lastProgress > STALL_MINUTES * 60_000_000_000L) {
          throw new IllegalStateException("no new session for " + STALL_MINUTES + " min at " + have + " of " + to);
        }
        if (System.nanoTime() - began > BUDGET_MINUTES * 60_000_000_000L) {
          throw new IllegalStateException("time budget spent at " + have + " of " + to);
        }
        BenchStack.sleep(50);
      }
      List<Integer> ids = new ArrayList<>();
      for (int i = batch; i < end; i++) {
        ids.add(i);
      }
      Rounds.parallel(ids, 8, i -> start(client, i));
      if (end % 1000 == 0) {
        System.out.printf("bench: memory: started %,d of %,d (%,d READY)%n", end, to, redis.scard(keys.users()));
      }
    }
  }

  private static void start(WorkflowClient client, int i) {
    String user = "mem-" + i;
    String label = Labels.labelFor(user);
    WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(user)).setTaskQueue(TaskQueues.BERTH).build());
    WorkflowClient.start(stub::run, new WorkspaceParams(user, label, label + ".localhost",
        "http://" + label + ".localhost/", TEMPLATE, IDLE, Duration.ofHours(24), Duration.ofMinutes(5),
        Duration.ofSeconds(10), null, null));
  }

  /** Signals one workspace {@code n} times, spaced so that each lands in its own workflow task. */
  private static double eventsPerSignal(WorkflowClient client, String user, int n) {
    String id = WorkspaceWorkflow.idFor(user);
    int before = settledLength(client, id);
    WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, id);
    for (int i = 0; i < n; i++) {
      stub.beat(System.currentTimeMillis()); // what the API sends
      BenchStack.sleep(200);
    }
    return (settledLength(client, id) - before) / (double) n;
  }

  private static int settledLength(WorkflowClient client, String id) {
    int last = -1;
    for (int i = 0; i < 50; i++) {
      int len = client.fetchHistory(id).getEvents().size();
      if (len == last) {
        return len;
      }
      last = len;
      BenchStack.sleep(300);
    }
    return last;
  }

  /** What the real capacity controller would move per pass at 10,000 slots. */
  private static void payloads(Report.Section sec) {
    DefaultDataConverter dc = DefaultDataConverter.newDefaultInstance();
    NullFleet local = new NullFleet(TEMPLATE, 20000, 64);
    local.grow(10_000);
    NullFleet aws = new NullFleet(TEMPLATE, 20000, 1);
    aws.grow(10_000);
    List<String> spares = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      spares.add("h-" + (i / 64 + 1) + "/" + (i % 64));
    }
    long fleetLocal = dc.toPayload(local.describe()).orElseThrow().getSerializedSize();
    long fleetAws = dc.toPayload(aws.describe()).orElseThrow().getSerializedSize();
    List<String> users = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      users.add("user-" + i + "@example.com");
    }
    PoolState poolState = new PoolState(spares, List.of(), users);
    long pool = dc.toPayload(poolState).orElseThrow().getSerializedSize();
    // The pass view: all 10,000 slots in use but 50 spares, and the worst case, all spares.
    FleetSnapshot busy = aws.describe();
    List<String> busySpares = new ArrayList<>();
    List<String> busyUsers = new ArrayList<>();
    List<Host> hosts = new ArrayList<>();
    for (Host h : busy.hosts()) {
      boolean spare = busySpares.size() < 50;
      SlotStatus s = h.slots().get(0);
      if (spare) {
        busySpares.add(s.slot().slotId());
      } else {
        busyUsers.add("user-" + hosts.size() + "@example.com");
      }
      hosts.add(new Host(h.hostId(), h.state(), h.address(), !spare, h.launchedAtMillis(),
          List.of(new SlotStatus(s.slot(), spare ? null : busyUsers.get(busyUsers.size() - 1), true))));
    }
    FleetSnapshot inUse = new FleetSnapshot(busy.desired(), busy.min(), busy.max(), hosts);
    long passBusy = dc.toPayload(PassViews.of(inUse, new PoolState(busySpares, List.of(), busyUsers), TEMPLATE, 0))
        .orElseThrow().getSerializedSize();
    List<String> awsSpares = busy.hosts().stream().map(h -> h.slots().get(0).slot().slotId()).toList();
    long passIdle = dc.toPayload(PassViews.of(busy, new PoolState(awsSpares, List.of(), List.of()), TEMPLATE, 0))
        .orElseThrow().getSerializedSize();
    sec.text(String.format("The capacity controller at 10,000 slots (IdleCapacityWorkflow stands in above): the "
            + "whole fleet as one payload would be %,d KB (`describeFleet`, 157 local hosts × 64 slots) or %,d KB "
            + "(10,000 one-slot EC2 hosts), and the pool with 10,000 spares and 10,000 user ids %,d KB (`poolState`), "
            + "against Temporal's payload limits (warn 512 KB, error 2 MB). So its `passView` activity joins both "
            + "outside the workflow and returns counts and the slots a pass acts on (capped lists): %,d KB for 10,000 "
            + "one-slot hosts in use with 50 spares, %,d KB when all 10,000 are spares (the capped worst case).",
        fleetLocal / 1024, fleetAws / 1024, pool / 1024, passBusy / 1024, passIdle / 1024));
  }

  private static List<String> row(int n, long used, long base, Process server, double secs) {
    return List.of(String.format("%,d", n), String.format("%,.0f MB", used / 1e6),
        String.format("%,.0f MB", (used - base) / 1e6),
        n == 0 ? "-" : String.format("%.1f KB", (used - base) / 1e3 / n),
        String.valueOf(ManagementFactory.getThreadMXBean().getThreadCount()), rss(server.pid()),
        n == 0 ? "-" : String.format("%.0f s", secs));
  }

  static long usedHeapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      BenchStack.sleep(300);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static String rss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format("%,.0f MB", kb / 1e3);
        }
      }
    } catch (IOException | RuntimeException e) {
      return "?";
    }
    return "?";
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
