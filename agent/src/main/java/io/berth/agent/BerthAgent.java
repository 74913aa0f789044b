package io.berth.agent;

import java.net.InetAddress;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * berth-agent: the root process on each workspace instance. It serves the worker's credentials
 * calls on the private address, relays template activity as heartbeats, recycles slots when the
 * worker tags {@code Recycle}, and completes the launch lifecycle hook. Settings: {@link AgentConfig}.
 */
public final class BerthAgent {
  private BerthAgent() {}

  public static void main(String[] args) {
    AgentConfig config;
    try {
      config = AgentConfig.fromEnv(System.getenv());
    } catch (RuntimeException e) {
      Log.error("berth-agent: bad settings: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      run(config);
    } catch (Exception e) {
      Log.error("berth-agent could not start: " + Retry.describe(e));
      System.exit(1);
    }
  }

  static void run(AgentConfig config) throws Exception {
    Imds imds = new Imds(config.metadataUrl());
    String instanceId = imds.require("instance-id");
    String host = config.listenHost() != null ? config.listenHost() : imds.require("local-ipv4");
    String region = config.region() != null ? config.region() : imds.require("placement/region");
    TokenStore store = new TokenStore(config.stateDir(), config.slots());
    Slots slots = new Slots(config);
    AwsCalls aws = new AwsCalls(region, config.awsEndpoint());
    CredentialsServer server = new CredentialsServer(
        new InetSocketAddress(InetAddress.getByName(host), config.listenPort()), config.allowFrom(), store, config.slots());

    // The template units wait for this file (ExecStartPre) at boot: a slot must not be pooled
    // before the agent can take its token.
    Files.writeString(config.stateDir().resolve("ready"), ProcessHandle.current().pid() + "\n");

    ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
    Optional<Activity> activity = Activity.of(config.template());
    activity.ifPresent(a -> every(timers, config.heartbeatInterval().toMillis(), new Heartbeats(config, slots, store, a)));
    every(timers, config.tagInterval().toMillis(), new Recycler(config, instanceId, imds, slots, store, aws));
    if (config.lifecycleHook() != null) {
      String group = config.group() != null ? config.group() : imds.require("tags/instance/aws:autoscaling:groupName");
      Thread hook = new Thread(new LaunchHook(config, instanceId, group, slots, aws), "launch-hook");
      hook.setDaemon(true);
      hook.start();
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      timers.shutdownNow();
      aws.close();
    }));
    Log.info("berth-agent on " + instanceId + ": credentials on " + host + ":" + server.address().getPort()
        + describe(config, activity.isPresent()));
  }

  /** The rest of the startup line: what the operator checks first when a slot never becomes a spare. */
  private static String describe(AgentConfig config, boolean relaysActivity) {
    return (config.allowFrom().isEmpty() ? "" : " (from " + System.getenv("BERTH_AGENT_ALLOW_FROM") + ")")
        + ", " + config.slots() + " slot(s) of " + config.template() + " from port " + config.templatePort()
        + ", heartbeats to " + config.apiUrl()
        + (relaysActivity ? " every " + seconds(config.heartbeatInterval()) : " (none: " + config.template()
        + " reports no activity to the agent)")
        + ", tokens in " + config.stateDir();
  }

  private static String seconds(Duration d) {
    return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString() + " s";
  }

  /** Fixed delay, not rate: a slow pass (retries, a recycle) is never followed by a burst. */
  private static void every(ScheduledExecutorService timers, long millis, Runnable task) {
    timers.scheduleWithFixedDelay(task, 0, millis, TimeUnit.MILLISECONDS);
  }
}
