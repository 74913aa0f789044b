package io.berth.stack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.berth.workflows.pools.Pool;
import io.berth.workflows.pools.Pools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The templates file the demand scenario writes loads as the stack reads it: one pool per strategy. */
class DemandTemplatesTest {
  @TempDir
  Path dir;

  @Test
  void everyStrategyIsACommandTemplateWithItsRules() throws Exception {
    List<DemandScenario.Strategy> strategies = DemandScenario.strategies(new int[] {2, 8});
    Path file = dir.resolve("templates.yml");
    Files.writeString(file, DemandScenario.templatesFile(strategies,
        "/usr/bin/socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:8000"));
    Pools pools = Pools.fromEnv(Map.of(Pools.FILE, file.toString()));
    assertEquals(List.of("fixed-2", "fixed-8", "sched", "sched-demand"), pools.names());
    assertEquals("fixed-2", pools.defaultTemplate());
    for (Pool p : pools.pools()) {
      assertEquals("command", p.kind());
      assertEquals(1, p.slotsPerHost());
      assertEquals(DemandScenario.MAX_HOSTS, p.maxHosts());
    }
    assertEquals(8, pools.get("fixed-8").rules().base());
    assertEquals(List.of(), pools.get("fixed-8").rules().schedules());
    assertNull(pools.get("sched").rules().demand());
    assertEquals(3, pools.get("sched").rules().schedules().size());
    assertEquals(pools.get("sched").rules().schedules(), pools.get("sched-demand").rules().schedules());
    assertNotNull(pools.get("sched-demand").rules().demand());
    assertEquals(16, pools.get("sched-demand").rules().demand().max());
    assertEquals(DemandScenario.BASE, pools.get("sched").rules().base());
  }
}
