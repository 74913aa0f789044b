package io.berth.api.admin;

import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;

/**
 * The admin list, read from the Redis read model ({@code ws:users} and each {@code ws:<user>}):
 * Temporal's visibility API is not available on the embedded test server. Only named fields are
 * copied out, so a field added to the hash later never leaks by accident.
 */
@Singleton
public class Sessions {
  private final RedisClient redis;
  private final RedisKeys keys;

  public Sessions(RedisClient redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  @Serdeable
  public record Entry(String user, String name, String workspaceId, String state, String url, String label, String template,
                      String instanceId, String slotId, String allocatedAt, String lastSeen, String idleDeadline,
                      String expiresAt) {}

  public List<Entry> list() {
    List<String> users = new ArrayList<>(redis.smembers(keys.users()));
    users.sort(Comparator.naturalOrder());
    List<Response<Map<String, String>>> hashes = new ArrayList<>(users.size());
    try (AbstractPipeline p = redis.pipelined()) {
      for (String u : users) {
        hashes.add(p.hgetAll(keys.workspace(u)));
      }
      p.sync();
    }
    List<Entry> entries = new ArrayList<>(users.size());
    for (int i = 0; i < users.size(); i++) {
      Map<String, String> h = hashes.get(i).get();
      if (h != null && !h.isEmpty()) {
        entries.add(entry(users.get(i), h));
      }
    }
    return entries;
  }

  /** {@code key}: the workspace key; the entry names its user and workspace name apart. */
  private static Entry entry(String key, Map<String, String> h) {
    return new Entry(Labels.userOf(key), Labels.nameOf(key), h.get("workspaceId"), h.get("state"), h.get("url"), h.get("label"), h.get("template"),
        h.get("hostId"), h.get("slotId"), time(h.get("allocatedAt")), time(h.get("lastSeen")),
        time(h.get("idleDeadline")), time(h.get("expiresAt")));
  }

  /** Epoch milliseconds become ISO-8601; anything else is shown as stored. */
  private static String time(String v) {
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      long ms = Long.parseLong(v);
      return ms <= 0 ? null : Instant.ofEpochMilli(ms).toString();
    } catch (NumberFormatException e) {
      return v;
    }
  }
}
