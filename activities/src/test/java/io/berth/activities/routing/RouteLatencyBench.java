package io.berth.activities.routing;

import io.berth.workflows.model.RouteSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Timings for docs, not assertions. Not picked up by a normal build (the name does not end in
 * Test); run with {@code mvn -o -q -pl activities -am verify -Dtest=RouteLatencyBench
 * -Dsurefire.failIfNoSpecifiedTests=false} and read target/surefire-reports/*RouteLatencyBench-output.txt.
 */
class RouteLatencyBench {
  private static final String DOMAIN = "berth.localhost";
  private static final int N = 50;

  @Test
  void measure() throws Exception {
    try (PrivateNginx n = PrivateNginx.start(); Upstream up = new Upstream("bench");
         NginxRoutes routes = new NginxRoutes(n.nginx)) {
      report("nginx -t (spawned from Java), empty", time(20, () -> n.nginx.test()));
      report("HUP + old worker retired, empty", time(20, () -> n.nginx.reloadTested(Duration.ofSeconds(10))));
      report("routeWorkspace, sequential, 0.." + N + " routes", sequential(routes, up, "seq", true));
      report("unrouteWorkspace, sequential", sequential(routes, up, "seq", false));
      concurrent(routes, up);

      for (int i = 0; i < 1000; i++) {
        String label = "bulk-" + i;
        Files.writeString(n.nginx.routesDir().resolve(label + ".conf"), ServerBlock.render(n.gateway(), label,
            label + "." + DOMAIN, "127.0.0.1", up.port()));
      }
      n.nginx.reload();
      report("nginx -t (spawned from Java), 1,000 routes", time(20, () -> n.nginx.test()));
      report("HUP + old worker retired, 1,000 routes", time(20, () -> n.nginx.reloadTested(Duration.ofSeconds(10))));
      report("routeWorkspace, sequential, 1,000 routes present", sequential(routes, up, "big", true));
      report("unrouteWorkspace, sequential, 1,000 routes present", sequential(routes, up, "big", false));
      rss(n);
    }
  }

  private static double[] sequential(NginxRoutes routes, Upstream up, String prefix, boolean route) {
    double[] ms = new double[N];
    for (int i = 0; i < N; i++) {
      RouteSpec s = spec(prefix + "-" + i, up);
      long t0 = System.nanoTime();
      if (route) {
        routes.routeWorkspace(s);
      } else {
        routes.unrouteWorkspace(s);
      }
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    return ms;
  }

  private static void concurrent(NginxRoutes routes, Upstream up) throws Exception {
    long reloadsBefore = routes.health().reloads();
    ExecutorService pool = Executors.newFixedThreadPool(N);
    double[] ms = new double[N];
    long t0 = System.nanoTime();
    try {
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (int i = 0; i < N; i++) {
        int k = i;
        calls.add(CompletableFuture.runAsync(() -> {
          long s = System.nanoTime();
          routes.routeWorkspace(spec("par-" + k, up));
          ms[k] = (System.nanoTime() - s) / 1e6;
        }, pool));
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    double wall = (System.nanoTime() - t0) / 1e6;
    report("routeWorkspace, " + N + " concurrent (per call)", ms);
    System.out.printf("BENCH %-55s wall %.0f ms, %d reloads%n", N + " concurrent routes", wall,
        routes.health().reloads() - reloadsBefore);
  }

  private static void rss(PrivateNginx n) throws IOException {
    long master = n.nginx.masterPid().orElseThrow();
    for (long pid : List.of(master, ProcessHandle.of(master).orElseThrow().children().findFirst().orElseThrow().pid())) {
      String status = Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "status"));
      status.lines().filter(l -> l.startsWith("VmRSS")).forEach(l -> System.out.println("BENCH rss pid " + pid + " " + l));
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static double[] time(int times, Step step) throws Exception {
    double[] ms = new double[times];
    for (int i = 0; i < times; i++) {
      long t0 = System.nanoTime();
      step.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    return ms;
  }

  private static RouteSpec spec(String label, Upstream up) {
    return new RouteSpec("r", "u", label, label + "." + DOMAIN, "127.0.0.1", up.port());
  }

  private static void report(String what, double[] ms) {
    double[] s = ms.clone();
    Arrays.sort(s);
    System.out.printf("BENCH %-55s median %6.1f ms  p90 %6.1f ms  max %6.1f ms  (n=%d)%n", what, s[s.length / 2],
        s[(int) Math.floor(s.length * 0.9)], s[s.length - 1], s.length);
  }
}
