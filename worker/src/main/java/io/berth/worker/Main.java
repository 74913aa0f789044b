package io.berth.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The worker process on its own (docker-compose, AWS): settings from the environment. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    WorkerConfig config = WorkerConfig.fromEnv(System.getenv());
    TemporalConnection temporal = TemporalConnection.open(config);
    BerthWorker worker = BerthWorker.start(config, temporal.client());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping worker");
      worker.close();
      temporal.close();
    }, "berth-shutdown"));
    Thread.currentThread().join();
  }
}
