package io.berth.activities.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.RedisPerClass;
import io.berth.workflows.RedisKeys;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClient;

class PortAllocatorTest {
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  private final RedisClient redis = REDIS.client();
  private final RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
  /** A range of its own per run, so parallel runs on this machine rarely meet. */
  private final int first = 20_000 + ThreadLocalRandom.current().nextInt(100) * 100;

  @Test
  void concurrentAllocationsNeverShareAPortAndExhaustionSaysSo() throws Exception {
    int size = 100;
    PortAllocator ports = new PortAllocator(redis, keys, first, first + size - 1);
    int threads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<List<Integer>>> results = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String owner = "owner-" + t;
      results.add(pool.submit(() -> {
        go.await();
        List<Integer> mine = new ArrayList<>();
        while (true) {
          try {
            mine.add(ports.allocate(owner));
          } catch (PortAllocator.PortsExhaustedException e) {
            return mine;
          }
        }
      }));
    }
    go.countDown();
    Set<Integer> seen = new HashSet<>();
    Map<Integer, String> table = null;
    int total = 0;
    for (int t = 0; t < threads; t++) {
      List<Integer> mine = results.get(t).get(60, TimeUnit.SECONDS);
      table = ports.allocations();
      for (int p : mine) {
        assertTrue(seen.add(p), "port " + p + " handed out twice");
        assertEquals("owner-" + t, table.get(p));
        assertTrue(p >= first && p < first + size);
      }
      total += mine.size();
    }
    pool.shutdown();
    long foreign = table.values().stream().filter(PortAllocator.FOREIGN::equals).count();
    assertEquals(size, total + foreign, "every port of the range is either ours or held by another process");
    PortAllocator.PortsExhaustedException e =
        assertThrows(PortAllocator.PortsExhaustedException.class, () -> ports.allocate("late"));
    assertTrue(e.getMessage().contains(first + "-" + (first + size - 1)), e.getMessage());
  }

  @Test
  void releaseOnlyByTheOwner() {
    PortAllocator ports = new PortAllocator(redis, keys, first, first + 9);
    int p = ports.allocate("h-1/0");
    assertFalse(ports.release(p, "h-2/0"));
    assertEquals("h-1/0", ports.ownerOf(p));
    assertTrue(ports.release(p, "h-1/0"));
    assertNull(ports.ownerOf(p));
    assertFalse(ports.release(p, "h-1/0"), "a second release is a no-op");
  }

  @Test
  void reclaimStaleFreesPortsOfOwnersThatAreGone() {
    PortAllocator ports = new PortAllocator(redis, keys, first, first + 9);
    int a = ports.allocate("a");
    ports.allocate("b");
    ports.allocate("c");
    assertEquals(2, ports.reclaimStale(Set.of("a", "x")));
    assertEquals(Map.of(a, "a"), ports.allocations());
  }

  @Test
  void aPortHeldByAnotherProcessIsSkippedAndMarked() throws Exception {
    try (ServerSocket held = new ServerSocket()) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int p = held.getLocalPort();
      PortAllocator ports = new PortAllocator(redis, keys, p, p);
      assertThrows(PortAllocator.PortsExhaustedException.class, () -> ports.allocate("h-1/0"));
      assertEquals(Map.of(p, PortAllocator.FOREIGN), ports.allocations());
      held.close();
      assertEquals(1, ports.reclaimStale(Set.of()), "a foreign mark gets another chance");
      assertEquals(p, ports.allocate("h-1/0"));
    }
  }

  @Test
  void rangeIsValidated() {
    assertThrows(IllegalArgumentException.class, () -> new PortAllocator(redis, keys, 70_000, 80_000));
    assertThrows(IllegalArgumentException.class, () -> new PortAllocator(redis, keys, 6_000, 5_000));
    assertThrows(IllegalArgumentException.class, () -> new PortAllocator(redis, keys, 80, 90));
  }
}
