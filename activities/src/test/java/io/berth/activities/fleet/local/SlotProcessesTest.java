package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.testkit.RedisPerClass;
import io.berth.workflows.Labels;
import io.berth.workflows.model.Slot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Real slot processes: a shell that writes down its environment and whose children outlive it unless killed. */
class SlotProcessesTest {
  private static final Duration UP = Duration.ofSeconds(20);
  @RegisterExtension
  static final RedisPerClass REDIS = new RedisPerClass();
  @TempDir
  Path stateDir;
  private FleetParts parts;

  /** Writes its environment to env.txt in its directory, starts a child, then sleeps. */
  private static Template envWriter() {
    return new Template() {
      @Override
      public String name() {
        return "envwriter";
      }

      @Override
      public List<String> argv(Launch launch) {
        return List.of("sh", "-c", "sleep 300 & env > env.tmp && mv env.tmp env.txt && exec sleep 301");
      }

      @Override
      public String probePath() {
        return "/";
      }
    };
  }

  private SlotProcesses processes() {
    parts = new FleetParts(REDIS.client(), FleetParts.config(stateDir, envWriter(), 1));
    parts.registry.recordPending("h-1", 1);
    return parts.processes;
  }

  @AfterEach
  void clean() {
    if (parts != null) {
      parts.close();
    }
  }

  private Map<String, String> envOf(Path slotDir) throws IOException {
    Path file = slotDir.resolve("env.txt");
    Await.until("the process to write its environment", UP, () -> Files.exists(file));
    Map<String, String> env = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return env;
  }

  private SlotState slotState(int index) {
    return parts.registry.load("h-1").slots().get(index);
  }

  private static Slot slot(int index, int port) {
    return new Slot(Slot.idOf("h-1", index), "h-1", index, LocalFleet.ADDRESS, port, "envwriter");
  }

  @Test
  void aSlotProcessGetsItsOwnEnvironmentOnlyAndIsRecordedOnDiskAndInRedis() throws Exception {
    SlotProcesses processes = processes();
    int port = parts.ports.allocate("h-1/0");
    processes.start("h-1", 0, port, null);

    Path dir = parts.layout.slotDir("h-1", 0);
    Map<String, String> env = envOf(dir);
    assertEquals(dir.toString(), env.get("HOME"), "an ownerless process lives in its slot");
    assertEquals(dir.toString(), env.get("BERTH_SLOT_DIR"));
    assertEquals(String.valueOf(port), env.get("BERTH_PORT"));
    assertEquals(parts.config.apiUrl(), env.get("BERTH_API_URL"));
    assertEquals("C.UTF-8", env.get("LANG"));
    Set<String> fromTheShell = Set.of("PWD", "SHLVL", "_", "OLDPWD");
    for (String name : System.getenv().keySet()) {
      if (!Set.of("PATH", "HOME", "LANG").contains(name) && !fromTheShell.contains(name)) {
        assertFalse(env.containsKey(name), name + " of the worker reached the slot");
      }
    }

    SlotState s = slotState(0);
    assertTrue(s.alive());
    assertEquals(port, s.port());
    parts.watch(s.process().pid());
    assertEquals(List.of(s.process()), List.copyOf(processes.tracked()));
    assertArrayEquals(new String[] {String.valueOf(s.process().pid()), String.valueOf(s.process().startMillis()),
        String.valueOf(port)}, parts.layout.readPidFile("h-1", 0));
    assertTrue(Files.isRegularFile(dir.resolve(FleetLayout.LOG_FILE)));
  }

  @Test
  void killingASlotEndsItsProcessAndWhatItStarted() throws Exception {
    SlotProcesses processes = processes();
    processes.start("h-1", 0, parts.ports.allocate("h-1/0"), null);
    envOf(parts.layout.slotDir("h-1", 0));
    SlotState s = slotState(0);
    long pid = parts.watch(s.process().pid());
    List<Long> children = Await.value("the shell to become sleep with one child", UP, () -> {
      ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
      List<Long> c = h.descendants().map(ProcessHandle::pid).toList();
      return c.size() == 1 && h.info().command().orElse("").endsWith("sleep") ? c : null;
    });
    children.forEach(parts::watch);

    processes.kill("h-1/0", s);
    assertFalse(FleetParts.alive(pid));
    children.forEach(c -> assertFalse(FleetParts.alive(c), "child " + c + " outlived its slot"));
    assertTrue(processes.tracked().isEmpty());
  }

  @Test
  void aRestartForAnOwnerKeepsThePortAndRunsOnTheOwnersDirectoryWithNothingOfTheSpare() throws Exception {
    SlotProcesses processes = processes();
    int port = parts.ports.allocate("h-1/0");
    processes.start("h-1", 0, port, null);
    Path dir = parts.layout.slotDir("h-1", 0);
    envOf(dir);
    long spare = parts.watch(slotState(0).process().pid());
    Files.writeString(dir.resolve("left-by-the-spare"), "x");

    String label = Labels.labelFor("alice");
    assertEquals(port, processes.restart(slot(0, port), slotState(0), label));
    assertFalse(FleetParts.alive(spare));
    assertFalse(Files.exists(dir.resolve("left-by-the-spare")), "the slot directory was emptied");
    assertEquals(parts.layout.userDir(label).toString(), envOf(dir).get("HOME"));
    SlotState owned = slotState(0);
    long ownersPid = parts.watch(owned.process().pid());
    assertNotEquals(spare, ownersPid);
    assertEquals(label, owned.userLabel());
    assertEquals(label, parts.layout.readPidFile("h-1", 0)[3], "whose directory, for a recovery from disk");

    processes.restart(slot(0, port), owned, null);
    assertFalse(FleetParts.alive(ownersPid));
    assertNull(slotState(0).userLabel());
    assertEquals(dir.toString(), envOf(dir).get("HOME"));
    parts.watch(slotState(0).process().pid());
  }

  @Test
  void aProcessThatCannotStartGivesItsPortBack() {
    parts = new FleetParts(REDIS.client(), FleetParts.config(stateDir, new Template() {
      @Override
      public String name() {
        return "missing";
      }

      @Override
      public List<String> argv(Launch launch) {
        return List.of(stateDir.resolve("no-such-program").toString());
      }

      @Override
      public String probePath() {
        return "/";
      }
    }, 1));
    parts.registry.recordPending("h-1", 1);
    int port = parts.ports.allocate("h-1/0");
    assertThrows(UncheckedIOException.class, () -> parts.processes.start("h-1", 0, port, null));
    assertNull(parts.allocator.ownerOf(port));
    assertTrue(parts.processes.tracked().isEmpty());
  }
}
