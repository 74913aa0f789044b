package io.berth.api.workspaces;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewChangesTest {

  static ProgressStep step(String name, String status, long at) {
    return new ProgressStep(name, status, at, null);
  }

  static WorkspaceView view(String id, WorkspaceState state, ProgressStep... steps) {
    return new WorkspaceView("u", id, state, "http://u.localhost/", null, null, "demo", 60, 0, 0, 0, null,
        List.of(steps));
  }

  static List<String> rendered(List<ViewChanges.Change> changes) {
    return changes.stream().map(c -> c.kind() + ":" + (c.data() instanceof WorkspaceJson.Step s
        ? s.step() + "/" + s.status() : ((WorkspaceJson) c.data()).state())).toList();
  }

  @Test
  void sendsNewStepsOnceThenTheStateWhenItChanges() {
    ViewChanges c = new ViewChanges();
    ProgressStep claim = step("claim", "running", 1);
    ProgressStep claimed = step("claim", "done", 2);
    ProgressStep ready = step("ready", "done", 3);
    assertEquals(List.of("step:claim/running", "state:ALLOCATING"),
        rendered(c.next(view("w1", WorkspaceState.ALLOCATING, claim))));
    assertEquals(List.of(), rendered(c.next(view("w1", WorkspaceState.ALLOCATING, claim))));
    assertFalse(c.finished());
    assertEquals(List.of("step:claim/done", "step:ready/done", "state:READY"),
        rendered(c.next(view("w1", WorkspaceState.READY, claim, claimed, ready))));
    assertTrue(c.finished());
  }

  @Test
  void aRunThatContinuedAsNewSendsOnlyWhatCameAfter() {
    ViewChanges c = new ViewChanges();
    c.next(view("w1", WorkspaceState.READY, step("claim", "done", 1), step("ready", "done", 2)));
    // the new run starts with an empty list; then teardown adds its own steps
    assertEquals(List.of("state:RELEASING"), rendered(c.next(view("w1", WorkspaceState.RELEASING))));
    assertEquals(List.of("step:teardown/running"),
        rendered(c.next(view("w1", WorkspaceState.RELEASING, step("teardown", "running", 9)))));
    assertFalse(c.finished());
    // a list shorter than what was sent, whose steps are not the ones sent: only the later ones count
    ViewChanges d = new ViewChanges();
    d.next(view("w1", WorkspaceState.RELEASING, step("a", "done", 1), step("b", "done", 2), step("c", "done", 3)));
    assertEquals(List.of("step:teardown/done", "state:RELEASED"),
        rendered(d.next(view("w1", WorkspaceState.RELEASED, step("old", "done", 2), step("teardown", "done", 4)))));
    assertTrue(d.finished());
  }

  @Test
  void anotherWorkspaceIsFollowedFromItsFirstStep() {
    ViewChanges c = new ViewChanges();
    c.next(view("w1", WorkspaceState.RELEASING, step("claim", "done", 1)));
    assertEquals(List.of("step:claim/running", "state:ALLOCATING"),
        rendered(c.next(view("w2", WorkspaceState.ALLOCATING, step("claim", "running", 5)))));
  }

  @Test
  void failedAndReleasedEndTheStream() {
    ViewChanges c = new ViewChanges();
    c.next(view("w1", WorkspaceState.FAILED, step("rollback", "done", 1)));
    assertTrue(c.finished());
    ViewChanges d = new ViewChanges();
    d.next(view("w1", WorkspaceState.RELEASING));
    assertFalse(d.finished());
    d.next(view("w1", WorkspaceState.RELEASED));
    assertTrue(d.finished());
  }
}
