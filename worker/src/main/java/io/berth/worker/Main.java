package io.berth.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The worker process on its own (docker-compose, AWS): settings from the environment. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    WorkerConfig config = WorkerConfig.fromEnv(System.getenv());
    String refusal = refusal(config, System.getenv());
    if (refusal != null) {
      System.err.println("berth worker: " + refusal);
      System.exit(2);
    }
    TemporalConnection temporal = TemporalConnection.open(config);
    BerthWorker worker = BerthWorker.start(config, temporal.client());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping worker");
      worker.close();
      temporal.close();
    }, "berth-shutdown"));
    Thread.currentThread().join();
  }

  /**
   * Without BERTH_TEMPORAL_TARGET this worker would run an in-memory Temporal that forgets every
   * workspace when it stops: a deployment that lost the setting must not start that way. Only an
   * explicit BERTH_TEMPORAL_EMBEDDED=true asks for it ({@code ./berth up} runs its own launcher).
   */
  static String refusal(WorkerConfig config, java.util.Map<String, String> env) {
    if (!config.embeddedTemporal() || "true".equalsIgnoreCase(env.getOrDefault("BERTH_TEMPORAL_EMBEDDED", ""))) {
      return null;
    }
    return "BERTH_TEMPORAL_TARGET is not set: give the Temporal frontend (host:port), or set "
        + "BERTH_TEMPORAL_EMBEDDED=true for an in-memory Temporal that forgets every workspace at exit";
  }
}
