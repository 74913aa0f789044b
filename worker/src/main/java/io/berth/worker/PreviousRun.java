package io.berth.worker;

import io.berth.activities.fleet.local.LocalFleet;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * What a previous embedded run left: its Temporal kept everything in memory, so none of its
 * workflows exists any more, and nothing it recorded is backed by one. Before the worker and the
 * API start, this removes it all: every key under the Redis prefix (sessions, claims, pools,
 * routes, idle holds, host and slot records), the workspace processes and host directories of the
 * local fleet, and the route files of a managed Nginx. At a clean stop, after the
 * worker stopped the workspaces, the keys go again, so that Redis holds nothing of a run that is over.
 */
public final class PreviousRun {
  private static final Logger log = LoggerFactory.getLogger(PreviousRun.class);
  private static final int SCAN_COUNT = 1000;

  private PreviousRun() {}

  /** Only for an embedded Temporal: with a cluster, the workflows outlive the process and the controller reconciles. */
  public static void clear(WorkerConfig config) {
    if (!config.embeddedTemporal()) {
      throw new IllegalStateException("only an embedded Temporal forgets every workflow at exit");
    }
    int killed = "local".equals(config.provider()) ? LocalFleet.clearPreviousRun(config.stateDir()) : 0;
    int routes = config.nginxEmbedded() ? deleteRouteFiles(config.stateDir().resolve("nginx").resolve("routes")) : 0;
    long keys = forgetKeys(config);
    if (killed + routes + keys > 0) {
      log.info("cleared what the previous run left: {} key(s) under {}, {} workspace process(es), {} route file(s)",
          keys, config.redisPrefix(), killed, routes);
    }
  }

  /**
   * At a clean stop, once the worker has stopped its workspaces and Nginx: only the run's keys are
   * left to go (there is no process to look for). Returns how many.
   */
  public static long forgetKeys(WorkerConfig config) {
    try (RedisClient redis = RedisClient.create(config.redisUrl())) {
      return purge(redis, config.redisPrefix());
    }
  }

  /** Deletes every key that starts with {@code prefix}; returns how many. */
  static long purge(RedisClient redis, String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("refusing to purge a Redis without a key prefix");
    }
    ScanParams match = new ScanParams().match(globEscape(prefix) + "*").count(SCAN_COUNT);
    long deleted = 0;
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = redis.scan(cursor, match);
      if (!page.getResult().isEmpty()) {
        deleted += redis.unlink(page.getResult().toArray(String[]::new));
      }
      cursor = page.getCursor();
    } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    return deleted;
  }

  /** The prefix as a literal in a SCAN pattern: glob characters escaped. */
  static String globEscape(String s) {
    return s.replaceAll("([\\\\*?\\[\\]^])", "\\\\$1");
  }

  private static int deleteRouteFiles(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    int n = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.conf")) {
      for (Path f : files) {
        Files.deleteIfExists(f);
        n++;
      }
    } catch (IOException e) {
      log.warn("could not clear the route files in {}: {}", dir, e.toString());
    }
    return n;
  }
}
