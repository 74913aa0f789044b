package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.activities.store.PortAllocator;
import io.berth.testkit.RedisPerClass;
import io.temporal.failure.ApplicationFailure;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Ports of slots whose process is replaced, with real listeners holding them. */
class SlotPortsTest {
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  @TempDir
  Path stateDir;
  private FleetParts parts;
  private PortAllocator allocator;
  private SlotPorts ports;

  @BeforeEach
  void parts() {
    parts = new FleetParts(REDIS.client(), FleetParts.config(stateDir, FleetParts.sleeper(), 1));
    allocator = parts.allocator;
    ports = new SlotPorts(allocator, Duration.ofMillis(300));
  }

  @AfterEach
  void clean() {
    parts.close();
  }

  private static ServerSocket listenOn(int port) throws Exception {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return s;
  }

  @Test
  void aSlotsFreePortIsItsAgain() {
    int port = ports.allocate("h-1/0");
    assertEquals(port, ports.reusablePort("h-1/0", port));
    assertEquals(port, ports.samePort("h-1/0", port));
    assertEquals("h-1/0", allocator.ownerOf(port));
  }

  @Test
  void aPortThatStaysBusyMovesTheSlotToANewOne() throws Exception {
    int port = ports.allocate("h-1/0");
    try (ServerSocket holder = listenOn(port)) {
      int moved = ports.reusablePort("h-1/0", port);
      assertNotEquals(port, moved);
      assertEquals("h-1/0", allocator.ownerOf(moved));
      assertNull(allocator.ownerOf(port), "the old port is released");
    }
  }

  @Test
  void theOwnersProcessWaitsForItsOwnPortOnlyAndFailsRetryablyWhenItStaysBusy() throws Exception {
    int port = ports.allocate("h-1/0");
    try (ServerSocket holder = listenOn(port)) {
      ApplicationFailure e = assertThrows(ApplicationFailure.class, () -> ports.samePort("h-1/0", port));
      assertEquals("PortBusy", e.getType());
      assertFalse(e.isNonRetryable(), "a retry of the tag tries again");
    }
    ApplicationFailure other = assertThrows(ApplicationFailure.class, () -> ports.samePort("h-2/0", port));
    assertEquals("PortBusy", other.getType(), "another slot's port is never taken");
    assertEquals("h-1/0", allocator.ownerOf(port));
  }

  @Test
  void anotherSlotsPortIsNotReusedNorReleased() {
    int theirs = ports.allocate("h-1/0");
    int mine = ports.reusablePort("h-2/0", theirs);
    assertNotEquals(theirs, mine);
    assertEquals("h-1/0", allocator.ownerOf(theirs));
    assertEquals("h-2/0", allocator.ownerOf(mine));
  }
}
