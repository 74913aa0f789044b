package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The session is stored, then the controller of its template is poked. */
class SessionThenPokeTest {
  private static Session session(String user, String template) {
    Slot slot = new Slot("h-1/0", "h-1", 0, "127.0.0.1", 20_000, template);
    return new Session("req-" + user, user, "ws-" + user, user, "http://" + user + ".localhost/", slot, template,
        0, 1, 2, 1, "READY");
  }

  @Test
  void eachSessionPokesItsTemplatesController() {
    FakeActivities fakes = new FakeActivities();
    SessionThenPoke s = new SessionThenPoke(fakes, fakes, t -> CapacityWorkflow.idFor(t, "demo"));
    s.storeSessionThenPoke(session("ann", "shell"), "allocated");
    s.storeSessionThenPoke(session("ben", "demo"), "allocated");
    assertEquals(List.of("capacity-shell", "capacity"), fakes.pokedControllers);
    assertTrue(fakes.sessions.containsKey("ann") && fakes.sessions.containsKey("ben"));
  }

  @Test
  void withoutAMapEveryTemplatePokesTheOneController() {
    FakeActivities fakes = new FakeActivities();
    new SessionThenPoke(fakes, fakes).storeSessionThenPoke(session("cat", "shell"), "allocated");
    assertEquals(List.of(CapacityWorkflow.ID), fakes.pokedControllers);
  }
}
