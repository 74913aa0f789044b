package io.berth.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The memory is a workflow's input across continue-as-new: its JSON is stable and reads back. */
class CapacityMemoryJsonTest {
  private static final DataConverter JSON = DefaultDataConverter.STANDARD_INSTANCE;

  private static String json(CapacityMemory m) {
    return JSON.toPayload(m).orElseThrow().getData().toString(StandardCharsets.UTF_8);
  }

  @Test
  void withoutDemandTheJsonIsAsBefore() {
    String json = json(CapacityMemory.empty());
    assertFalse(json.contains("demand") || json.contains("targetRule"), json);
  }

  @Test
  void aMemoryWithDemandReadsBackEqualAndItsJsonDoesNotDependOnOrder() {
    DemandLog log = DemandLog.empty().withClaimsTotal(1_000, 3).withClaimsTotal(20_000, 5).withMiss(15_000);
    CapacityMemory m = new CapacityMemory(1, 2, Map.of("h-2", new CapacityMemory.ProbeFailures(1, 3), "h-1",
        new CapacityMemory.ProbeFailures(2, 4)), Map.of(), Map.of(), 0, 0, false, List.of(), List.of(), log,
        "demand 3");
    CapacityMemory back = JSON.fromPayload(JSON.toPayload(m).orElseThrow(), CapacityMemory.class, CapacityMemory.class);
    assertEquals(m, back);
    assertEquals(json(m), json(back));
  }

  @Test
  void anOldMemoryReadsWithoutDemand() {
    String old = json(CapacityMemory.empty());
    CapacityMemory m = JSON.fromPayload(JSON.toPayload(CapacityMemory.empty()).orElseThrow(), CapacityMemory.class,
        CapacityMemory.class);
    assertEquals(null, m.demand(), old);
    assertEquals(0, DemandLog.of(m.demand()).missesSince(0));
  }
}
