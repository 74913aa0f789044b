package io.berth.api;

import io.berth.testkit.FreePorts;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.RedisClient;

/**
 * Not a test: {@code java -cp <test classpath> io.berth.api.HeartbeatBench [seconds] [clients] [users]}.
 * Heartbeat throughput against a private Redis; the client runs in the same JVM and shares the
 * cores, so the number is a floor. Temporal is absent: the once-per-window signals fail in the
 * background, as they would while Temporal is down.
 */
public final class HeartbeatBench {
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    int users = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    try (PrivateRedis redisServer = PrivateRedis.start();
         RedisClient redis = RedisClient.create(redisServer.url());
         ApplicationContext ctx = ApplicationContext.builder()
             .properties(Map.of("berth.jwt.secret", "0123456789abcdef0123456789abcdef-bench",
                 "berth.redis.url", redisServer.url(),
                 "berth.temporal.target", "127.0.0.1:" + FreePorts.next(),
                 "micronaut.server.port", "-1"))
             .start()) {
      EmbeddedServer server = ctx.getBean(EmbeddedServer.class).start();
      RedisKeys keys = new RedisKeys("berth:");
      List<String> tokens = new ArrayList<>();
      for (int i = 0; i < users; i++) {
        String user = "bench-" + i;
        String token = "tok-" + i + "-0123456789abcdef0123456789";
        redis.hset(keys.workspace(user), Map.of("user", user, "workspaceId", "w" + i));
        redis.hset(keys.heartbeatToken(Labels.sha256Hex(token)), Map.of("user", user, "workspaceId", "w" + i));
        tokens.add(token);
      }
      URI uri = server.getURI().resolve("/api/heartbeat");
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      run(http, uri, tokens, clients, 3); // warm-up
      long ok = run(http, uri, tokens, clients, seconds);
      System.out.printf("heartbeats: %d in %d s = %.0f req/s (%d clients, %d users)%n", ok, seconds,
          ok / (double) seconds, clients, users);
    }
    System.exit(0);
  }

  private static long run(HttpClient http, URI uri, List<String> tokens, int clients, int seconds) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    AtomicLong ok = new AtomicLong();
    AtomicLong bad = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> fs = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int offset = c;
      fs.add(pool.submit(() -> {
        int i = offset;
        while (System.nanoTime() < end) {
          HttpRequest req = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + tokens.get(i++ % tokens.size()))
              .POST(HttpRequest.BodyPublishers.noBody()).build();
          try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            int status = r.statusCode();
            if (status != 204 && bad.incrementAndGet() == 1) {
              System.out.println("first non-204: " + status + " " + r.body());
            } else if (status == 204) {
              ok.incrementAndGet();
            }
          } catch (Exception e) {
            bad.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    pool.shutdown();
    if (bad.get() > 0) {
      System.out.println("non-204 answers: " + bad.get());
    }
    return ok.get();
  }
}
