package io.berth.api.workspaces;

import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Turns successive views of one user's workspace into what a progress stream sends: each new
 * step once and in order, then the workspace when its state (or the workspace itself) changed.
 * Not thread-safe: one stream polls it at a time.
 */
final class ViewChanges {

  /** One thing to send: a {@code step} or a {@code state}. */
  record Change(String kind, Object data) {
    static final String STEP = "step";
    static final String STATE = "state";
  }

  private String workspaceId;
  private WorkspaceState state;
  /** How many steps of the current run's list were sent, and the last of them. */
  private int sent;
  private ProgressStep last;
  private boolean finished;

  List<Change> next(WorkspaceView view) {
    List<Change> out = new ArrayList<>();
    boolean otherWorkspace = !Objects.equals(workspaceId, view.workspaceId());
    if (otherWorkspace) {
      // a release and a new allocation happened between two polls: follow the new one from its start
      workspaceId = view.workspaceId();
      sent = 0;
      last = null;
    }
    for (ProgressStep s : newSteps(view.steps() == null ? List.of() : view.steps())) {
      out.add(new Change(Change.STEP, WorkspaceJson.Step.of(s)));
    }
    if (otherWorkspace || view.state() != state) {
      state = view.state();
      out.add(new Change(Change.STATE, WorkspaceJson.of(view)));
    }
    finished = state == WorkspaceState.READY || state == WorkspaceState.FAILED || state == WorkspaceState.RELEASED;
    return out;
  }

  /** True once the stream has sent READY, FAILED or RELEASED: nothing more to follow. */
  boolean finished() {
    return finished;
  }

  private List<ProgressStep> newSteps(List<ProgressStep> steps) {
    boolean sameList = sent <= steps.size() && (sent == 0 || steps.get(sent - 1).equals(last));
    List<ProgressStep> fresh;
    if (sameList) {
      fresh = steps.subList(sent, steps.size());
    } else {
      // The run continued as new and its list started over: only what happened after the last step sent.
      long after = last.atMillis();
      fresh = steps.stream().filter(s -> s.atMillis() > after).toList();
    }
    sent = steps.size();
    if (!steps.isEmpty()) {
      last = steps.get(steps.size() - 1);
    }
    return List.copyOf(fresh);
  }
}
