package io.berth.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The worker process on its own (docker-compose, AWS): settings from the environment. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    WorkerConfig config = WorkerConfig.fromEnv(System.getenv());
    String refusal = refusal(config);
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
   * This process only connects to a Temporal cluster: the in-memory test server, which forgets every
   * workspace when it stops, runs only in the embedded launcher ({@code ./berth up},
   * {@code io.berth.stack.EmbeddedStack}), and this jar does not carry it.
   */
  static String refusal(WorkerConfig config) {
    if (!config.embeddedTemporal()) {
      return null;
    }
    return "BERTH_TEMPORAL_TARGET is not set: give the Temporal frontend (host:port). This worker has no "
        + "embedded Temporal; ./berth up (io.berth.stack.EmbeddedStack) runs one with the whole stack in one JVM";
  }
}
