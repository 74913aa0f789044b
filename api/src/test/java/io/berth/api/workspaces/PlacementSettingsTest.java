package io.berth.api.workspaces;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.Placement;
import org.junit.jupiter.api.Test;

class PlacementSettingsTest {
  @Test
  void unsetFollowsTheWorkersFleetAndCache() {
    assertEquals(Placement.IN_TASK, new PlacementSettings("", "local", 600).placement());
    assertEquals(Placement.IN_TASK, new PlacementSettings(null, null, null).placement());
    assertEquals(Placement.ACTIVITIES, new PlacementSettings("", "local", 0).placement(), "no cache: fresh replays");
    assertEquals(Placement.ACTIVITIES, new PlacementSettings(" ", "aws", 600).placement());
  }

  @Test
  void anExplicitModeWins() {
    assertEquals(Placement.ACTIVITIES, new PlacementSettings("activities", "local", 600).placement());
    assertEquals(Placement.IN_TASK, new PlacementSettings("in-task", "aws", 0).placement());
  }

  @Test
  void anUnknownModeIsRefusedAtStartupWithTheChoices() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new PlacementSettings("inline", "local", 600));
    assertTrue(e.getMessage().contains("BERTH_PLACEMENT") && e.getMessage().contains("in-task"), e.getMessage());
  }
}
