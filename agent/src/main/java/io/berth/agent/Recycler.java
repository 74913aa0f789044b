package io.berth.agent;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Watches the instance's {@code Recycle} tag(s) through metadata tags. A value not handled yet
 * means the worker released the slot: stop the template, wipe the user's home, forget the token,
 * start the template, wait for its health path, then delete the tag. Berth keeps the slot out of
 * the pool while the tag is there, so the next user never meets the previous one's process or files.
 */
final class Recycler implements Runnable {
  private static final int ATTEMPTS = 5;

  private final AgentConfig config;
  private final String instanceId;
  private final Imds imds;
  private final Slots slots;
  private final TokenStore store;
  private final AwsCalls aws;
  /** The tag value each slot was last recycled for: metadata tags lag the tag's deletion a little. */
  private final Map<Integer, String> done = new HashMap<>();
  private final Map<Integer, Integer> failures = new HashMap<>();
  private boolean toldTagsOff;

  Recycler(AgentConfig config, String instanceId, Imds imds, Slots slots, TokenStore store, AwsCalls aws) {
    this.config = config;
    this.instanceId = instanceId;
    this.imds = imds;
    this.slots = slots;
    this.store = store;
    this.aws = aws;
  }

  @Override
  public void run() {
    try {
      Optional<List<String>> keys = imds.tagKeys();
      if (keys.isEmpty()) {
        tagsOff();
        return;
      }
      for (int slot = 0; slot < config.slots(); slot++) {
        if (keys.get().contains(config.recycleTag(slot))) {
          check(slot);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      Log.warn("reading the instance's tags failed: " + Retry.describe(e) + "; trying again in " + config.tagInterval().toSeconds() + " s");
    }
  }

  private void check(int slot) throws Exception {
    Optional<String> value = imds.get("tags/instance/" + config.recycleTag(slot));
    if (value.isEmpty() || value.get().equals(done.get(slot))) {
      return;
    }
    try {
      recycle(slot, value.get());
      done.put(slot, value.get());
      failures.remove(slot);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      failed(slot, value.get(), e);
    }
  }

  private void recycle(int slot, String value) throws Exception {
    long start = System.nanoTime();
    Log.info("slot " + slot + ": " + config.recycleTag(slot) + "=" + value + ": recycling (stop, wipe " + config.home(slot) + ", start)");
    slots.stop(slot);
    slots.wipeHome(slot);
    store.remove(slot);
    slots.start(slot);
    if (!slots.awaitHealthy(slot, config.templateTimeout())) {
      throw new IllegalStateException("the template did not answer " + config.healthPath() + " on port "
          + config.port(slot) + " within " + config.templateTimeout().toSeconds() + " s after its start");
    }
    Retry.call("slot " + slot + ": DeleteTags " + config.recycleTag(slot), 3, Duration.ofSeconds(2), () -> {
      aws.deleteTag(instanceId, config.recycleTag(slot), value);
      return null;
    });
    Log.info("slot " + slot + ": recycled in " + (System.nanoTime() - start) / 1_000_000 + " ms; tag deleted, the slot can rejoin the pool");
  }

  /** Tried again on the next pass, a bounded number of times per tag value; then the operator is told. */
  private void failed(int slot, String value, Exception e) {
    int n = failures.merge(slot, 1, Integer::sum);
    if (n < ATTEMPTS) {
      Log.warn("slot " + slot + ": recycle failed (attempt " + n + " of " + ATTEMPTS + "): " + Retry.describe(e));
      return;
    }
    done.put(slot, value);
    failures.remove(slot);
    Log.error("slot " + slot + ": gave up recycling after " + ATTEMPTS + " attempts: " + Retry.describe(e)
        + ". The slot stays out of the pool until " + config.recycleTag(slot) + " changes: fix the template"
        + " (its unit's journal says why it did not start), then restart berth-agent, or let scale-in replace the instance");
  }

  private void tagsOff() {
    if (!toldTagsOff) {
      toldTagsOff = true;
      Log.error("instance metadata tags are off, so Recycle cannot be seen and released slots never rejoin the pool:"
          + " set MetadataOptions InstanceMetadataTags=enabled in the launch template");
    }
  }
}
