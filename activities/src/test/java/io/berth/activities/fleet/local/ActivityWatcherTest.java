package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.activities.fleet.local.ActivitySignal.Reading;
import io.berth.activities.fleet.local.ActivitySignal.Watched;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Passes driven by hand against a real HTTP endpoint standing in for the API. */
class ActivityWatcherTest {
  private static final String TOKEN = "tok_" + "a".repeat(40);
  private final ConcurrentLinkedQueue<String> beats = new ConcurrentLinkedQueue<>();
  private final Map<String, Reading> readings = new ConcurrentHashMap<>();
  private final List<Watched> slots = new CopyOnWriteArrayList<>();
  private HttpServer api;
  private ActivityWatcher watcher;
  @TempDir
  Path dir;

  @BeforeEach
  void start() throws IOException {
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    api.createContext("/api/heartbeat", ex -> {
      beats.add(ex.getRequestMethod() + " " + ex.getRequestHeaders().getFirst("Authorization"));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    api.start();
    ActivitySignal signal = w -> {
      Reading r = readings.get(w.slotId());
      if (r == null) {
        throw new IOException("not answering");
      }
      return r;
    };
    watcher = new ActivityWatcher(signal, "http://127.0.0.1:" + api.getAddress().getPort(), () -> slots);
  }

  @AfterEach
  void stop() {
    watcher.close();
    api.stop(0);
  }

  private Watched slot(String id, long pid) throws IOException {
    Path slotDir = Files.createDirectories(dir.resolve(id.replace('/', '-')));
    return new Watched(id, pid, 1, slotDir, null);
  }

  @Test
  void aChangeSinceTheLastReadingOfAnOwnedSlotSendsOneHeartbeatWithItsToken() throws IOException {
    Watched s = slot("h-1/0", 100);
    slots.add(s);
    readings.put(s.slotId(), new Reading("a", false));
    assertEquals(0, watcher.pass(), "the first reading is only a baseline");

    readings.put(s.slotId(), new Reading("b", false));
    assertEquals(0, watcher.pass(), "a spare (no token) changes without anyone to tell");

    Files.writeString(s.slotDir().resolve("token"), TOKEN);
    assertEquals(0, watcher.pass(), "unchanged since the last reading");
    readings.put(s.slotId(), new Reading("c", false));
    assertEquals(1, watcher.pass());
    assertEquals(List.of("POST Bearer " + TOKEN), List.copyOf(beats));
    assertEquals(0, watcher.pass(), "one change, one heartbeat");
  }

  @Test
  void aConnectedClientCountsEveryPassAndANewProcessStartsOver() throws IOException {
    Watched s = slot("h-1/1", 200);
    slots.add(s);
    Files.writeString(s.slotDir().resolve("token"), TOKEN);
    readings.put(s.slotId(), new Reading("x", true));
    assertEquals(1, watcher.pass());
    assertEquals(1, watcher.pass());

    readings.put(s.slotId(), new Reading("y", false));
    slots.set(0, new Watched(s.slotId(), 201, s.port(), s.slotDir(), null));
    assertEquals(0, watcher.pass(), "a restarted process has a new baseline, not a change");
  }

  @Test
  void unreadableSlotsAndMalformedTokensSendNothing() throws IOException {
    Watched quiet = slot("h-2/0", 300);
    Watched bad = slot("h-2/1", 301);
    slots.addAll(List.of(quiet, bad));
    Files.writeString(quiet.slotDir().resolve("token"), TOKEN);
    Files.writeString(bad.slotDir().resolve("token"), "short");
    readings.put(bad.slotId(), new Reading("1", true));
    assertEquals(0, watcher.pass());
    assertTrue(beats.isEmpty());
  }
}
