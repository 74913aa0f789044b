package io.berth.stack;

import io.berth.stack.temporal.EmbeddedTemporal;
import io.berth.worker.BerthWorker;
import io.berth.worker.PreviousRun;
import io.berth.worker.TemporalConnection;
import io.berth.worker.WorkerConfig;
import io.berth.workflows.GatewayToken;
import io.berth.workflows.RedisKeys;
import io.micronaut.context.ApplicationContext;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.micronaut.runtime.server.EmbeddedServer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * The whole embedded stack in one JVM: Temporal's test server on 127.0.0.1, the worker (private
 * Nginx, local fleet, capacity controller) and the API. What {@code ./berth up} runs, and what the
 * end-to-end tests and the benchmark start with their own settings.
 */
public final class EmbeddedStack implements AutoCloseable {
  static {
    // The api jar brings its own logback.xml; two on one classpath make logback chatter at startup.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-stack.xml");
    }
  }

  private static final Logger log = LoggerFactory.getLogger(EmbeddedStack.class);
  /** Read by the launcher only: the worker and the API never see a clock of their own. */
  public static final String CLOCK_START = "BERTH_TEMPORAL_CLOCK_START";

  private final WorkerConfig config;
  /** Temporal's test server in this JVM; null when BERTH_TEMPORAL_TARGET names a cluster. */
  private final EmbeddedTemporal embedded;
  private final TemporalConnection temporal;
  private final BerthWorker worker;
  private final ApplicationContext api;
  private final EmbeddedServer server;
  private final RedisClient redis;

  private EmbeddedStack(WorkerConfig config, EmbeddedTemporal embedded, TemporalConnection temporal,
                        BerthWorker worker, ApplicationContext api, RedisClient redis) {
    this.config = config;
    this.embedded = embedded;
    this.temporal = temporal;
    this.worker = worker;
    this.api = api;
    this.server = api.getBean(EmbeddedServer.class);
    this.redis = redis;
  }

  /** {@code env}: BERTH_* settings (System.getenv() for {@code ./berth up}, explicit maps in tests). */
  public static EmbeddedStack start(Map<String, String> env, WorkerInterceptor... interceptors) {
    WorkerConfig config = WorkerConfig.fromEnv(env);
    EmbeddedTemporal embedded = config.embeddedTemporal()
        ? EmbeddedTemporal.start(config.embeddedTemporalPort(), clockStart(env)) : null;
    TemporalConnection temporal = connect(config, embedded);
    BerthWorker worker = null;
    RedisClient redis = null;
    try {
      // After the embedded server took its port (a run still up keeps it, and this one stops there):
      // no workflow of an earlier run exists, so nothing it left in Redis or on disk is backed.
      if (config.embeddedTemporal()) {
        PreviousRun.clear(config);
      }
      worker = BerthWorker.start(config, temporal.client(), interceptors);
      redis = RedisClient.create(config.redisUrl());
      ApplicationContext api = ApplicationContext.builder()
          .properties(apiProperties(env, temporal.target()))
          .singletons(temporal.client(), redis, new RedisKeys(config.redisPrefix()))
          .deduceEnvironment(false)
          .start();
      api.getBean(EmbeddedServer.class).start();
      return new EmbeddedStack(config, embedded, temporal, worker, api, redis);
    } catch (RuntimeException e) {
      if (redis != null) {
        redis.close();
      }
      if (worker != null) {
        worker.close();
      }
      temporal.close();
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  /**
   * {@value #CLOCK_START}: where the embedded server's workflow clock starts (an ISO instant), for
   * replaying a day on a stepped clock ({@code ./berth bench demand}); unset: now.
   */
  static long clockStart(Map<String, String> env) {
    String v = env.get(CLOCK_START);
    if (v == null || v.isBlank()) {
      return 0;
    }
    try {
      return Instant.parse(v.trim()).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(CLOCK_START + " must be an ISO instant such as 2026-12-07T05:00:00Z, got " + v);
    }
  }

  /** Over the in-process channel to {@code embedded}, or to the cluster at BERTH_TEMPORAL_TARGET. */
  private static TemporalConnection connect(WorkerConfig config, EmbeddedTemporal embedded) {
    if (embedded == null) {
      return TemporalConnection.open(config);
    }
    try {
      return TemporalConnection.inProcess(config, embedded.channel(), embedded.target());
    } catch (RuntimeException e) {
      embedded.close();
      throw e;
    }
  }

  /** The API reads BERTH_* placeholders; an explicit map wins over the process environment. */
  private static Map<String, Object> apiProperties(Map<String, String> env, String temporalTarget) {
    Map<String, Object> p = new HashMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith("BERTH_")) {
        p.put(k, v);
      }
    });
    p.put("BERTH_TEMPORAL_TARGET", temporalTarget);
    WorkerConfig c = WorkerConfig.fromEnv(env);
    // Users get URLs on the gateway this stack's Nginx listens on.
    p.putIfAbsent("BERTH_PUBLIC_URL", "http://{label}." + c.domain() + ":" + c.gatewayListen().replaceAll(".*:", "")
        + "/");
    p.putIfAbsent("BERTH_STATE_DIR", c.stateDir().toString());
    // The property itself, not only its placeholder: Micronaut maps a BERTH_STATE_DIR of the process
    // environment (./berth exports one) straight onto berth.state-dir, over application.yml's
    // placeholder, and the API would keep its secrets apart from this stack's worker.
    p.put("berth.state-dir", c.stateDir().toString());
    // What the worker wrote into Nginx's config: the API must want the very same token.
    Map<String, String> tokenEnv = new HashMap<>();
    tokenEnv.put(GatewayToken.ENV, c.isolation().gatewayToken());
    tokenEnv.put("BERTH_STATE_DIR", c.stateDir().toString());
    p.put("berth.gateway.token", GatewayToken.resolve(tokenEnv));
    return p;
  }

  public String apiUrl() {
    return "http://127.0.0.1:" + server.getPort();
  }

  public WorkerConfig config() {
    return config;
  }

  /** The embedded test server, or null when BERTH_TEMPORAL_TARGET names a cluster. */
  public EmbeddedTemporal embeddedTemporal() {
    return embedded;
  }

  public TemporalConnection temporal() {
    return temporal;
  }

  public BerthWorker worker() {
    return worker;
  }

  public RedisClient redis() {
    return redis;
  }

  public RedisKeys keys() {
    return new RedisKeys(config.redisPrefix());
  }

  @Override
  public void close() {
    try {
      api.close();
    } catch (RuntimeException e) {
      log.warn("stopping the api: {}", e.toString());
    }
    worker.close();
    redis.close();
    if (config.embeddedTemporal()) {
      try {
        PreviousRun.forgetKeys(config); // the workspaces are stopped; their records go with the in-memory history
      } catch (RuntimeException e) {
        log.warn("clearing this run's records: {}", e.toString());
      }
    }
    temporal.close();
    if (embedded != null) {
      embedded.close();
    }
  }

  public static void main(String[] args) throws InterruptedException {
    EmbeddedStack stack = start(System.getenv());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("berth: stopping (Nginx, workspaces, worker, api, Temporal)");
      stack.close();
    }, "berth-shutdown"));
    System.out.println(stack.banner());
    Thread.currentThread().join();
  }

  String banner() {
    return String.join("\n",
        "",
        "Berth is up.",
        "  dashboard   " + apiUrl() + "/",
        "  api         " + apiUrl() + "/api/workspaces",
        "  gateway     http://" + config.gatewayListen() + "/  (workspaces at http://<label>." + config.domain()
            + ":" + config.gatewayListen().replaceAll(".*:", "") + "/; routing " + config.routing() + ")",
        "  temporal    " + temporal.target() + " (embedded test server, history in memory)",
        "  redis       " + io.berth.workflows.RedisUrls.redact(config.redisUrl()) + " (prefix " + config.redisPrefix() + ")",
        "Get a token:  ./berth token alice        (operators: ./berth token ops --admin)",
        "Allocate:     curl -XPOST -H \"Authorization: Bearer $(./berth token alice)\" " + apiUrl() + "/api/workspaces",
        "Open it:      " + ("none".equalsIgnoreCase(config.workspaceAuth())
            ? "the \"url\" in the answer (BERTH_WORKSPACE_AUTH=none: anyone with the URL gets in)"
            : "the one-time \"launchUrl\" in the answer (curl -L -c jar -b jar '<launchUrl>'); the url alone is not enough"),
        "Ctrl-C stops everything.",
        "");
  }
}
