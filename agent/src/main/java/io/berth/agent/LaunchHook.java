package io.berth.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * With a launch lifecycle hook, Auto Scaling holds the new instance in {@code Pending:Wait} until
 * someone completes the action. The agent does it once every slot's template answers its health
 * path, so the instance enters service ready to be pooled. A marker file in the state directory
 * keeps a restarted agent from asking again during the same boot.
 */
final class LaunchHook implements Runnable {
  private final AgentConfig config;
  private final String instanceId;
  private final String group;
  private final Slots slots;
  private final AwsCalls aws;
  private final Path marker;

  LaunchHook(AgentConfig config, String instanceId, String group, Slots slots, AwsCalls aws) {
    this.config = config;
    this.instanceId = instanceId;
    this.group = group;
    this.slots = slots;
    this.aws = aws;
    this.marker = config.stateDir().resolve("launch-hook-done");
  }

  @Override
  public void run() {
    try {
      if (Files.exists(marker)) {
        Log.info("lifecycle hook " + config.lifecycleHook() + ": already completed during this boot (" + marker + ")");
        return;
      }
      if (!awaitTemplates()) {
        return;
      }
      complete();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      Log.error("could not complete lifecycle hook " + config.lifecycleHook() + ": " + Retry.describe(e)
          + ". Auto Scaling applies the hook's default result when its heartbeat timeout passes");
    }
  }

  private boolean awaitTemplates() throws InterruptedException {
    for (int slot = 0; slot < config.slots(); slot++) {
      if (!slots.healthy(slot)) {
        Log.info("lifecycle hook " + config.lifecycleHook() + ": waiting for slot " + slot + " to answer "
            + config.healthPath() + " on port " + config.port(slot));
      }
      if (!slots.awaitHealthy(slot, config.templateTimeout())) {
        Log.error("slot " + slot + " did not answer " + config.healthPath() + " within " + config.templateTimeout().toSeconds()
            + " s; lifecycle hook " + config.lifecycleHook() + " not completed (the hook's default result applies)");
        return false;
      }
    }
    return true;
  }

  private void complete() throws Exception {
    boolean completed = Retry.call("CompleteLifecycleAction " + config.lifecycleHook(), 5, Duration.ofSeconds(2),
        () -> aws.completeLaunch(group, config.lifecycleHook(), instanceId));
    try {
      Files.writeString(marker, instanceId);
    } catch (IOException e) {
      Log.warn("could not write " + marker + ": " + Retry.describe(e));
    }
    Log.info(completed ? "lifecycle hook " + config.lifecycleHook() + " completed (CONTINUE) for " + instanceId + " in " + group
        : "lifecycle hook " + config.lifecycleHook() + ": no action waiting for " + instanceId + " (already completed or timed out)");
  }
}
