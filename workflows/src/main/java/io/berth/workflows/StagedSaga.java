package io.berth.workflows;

import io.temporal.failure.CanceledFailure;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Saga;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A saga run as stages of steps: the steps of one stage start together, each one's undo
 * registered right before it starts (every undo tolerates a step that never ran or failed half way),
 * and the stage settles — every started step ended — before anything is judged, so no undo runs
 * while the step it undoes is still in flight. Then the first failure in step order is thrown and
 * the next stage does not start. {@link #compensate} runs the registered undos in reverse, in a
 * detached scope, going on past an undo that fails.
 */
final class StagedSaga {
  /**
   * One step: its name and detail for the progress list, how it starts (a promise of its end), and
   * what undoes it (null: nothing to undo).
   */
  record Step(String name, Supplier<String> detail, Supplier<Promise<Void>> start, Runnable undo) {}

  /** What the saga reports as it goes. */
  interface Progress {
    void step(String name, String status, String detail);

    void undoing(String name);
  }

  private final Saga saga = new Saga(new Saga.Options.Builder().setContinueWithError(true).build());
  private final Progress progress;

  StagedSaga(Progress progress) {
    this.progress = progress;
  }

  static Step step(String name, Supplier<String> detail, Supplier<Promise<Void>> start, Runnable undo) {
    return new Step(name, detail, start, undo);
  }

  /** A step that runs to its end in the workflow thread when started (a failure fails its promise). */
  static Supplier<Promise<Void>> inline(Runnable body) {
    return () -> {
      try {
        body.run();
        return Workflow.newPromise(null);
      } catch (RuntimeException e) {
        return Workflow.newFailedPromise(e);
      }
    };
  }

  void run(List<List<Step>> stages) {
    for (List<Step> stage : stages) {
      List<Promise<Void>> started = new ArrayList<>();
      for (Step s : stage) {
        progress.step(s.name(), "running", s.detail().get());
        if (s.undo() != null) {
          saga.addCompensation(() -> {
            progress.undoing(s.name());
            s.undo().run();
          });
        }
        started.add(s.start().get().thenApply(ok -> {
          progress.step(s.name(), "done", null);
          return ok;
        }));
      }
      awaitSettled(started);
      for (Promise<Void> p : started) {
        if (p.getFailure() != null) {
          throw p.getFailure();
        }
      }
    }
  }

  void compensate() {
    Workflow.newDetachedCancellationScope(saga::compensate).run();
  }

  /**
   * Promise.allOf fails fast; this waits for every one. When the workflow is cancelled meanwhile,
   * it still waits (in a detached scope) before the cancellation reaches the saga: a cancelled
   * step's promise resolves only once the step has really stopped.
   */
  private static void awaitSettled(List<Promise<Void>> promises) {
    Supplier<Boolean> settled = () -> promises.stream().allMatch(Promise::isCompleted);
    try {
      Workflow.await(settled);
    } catch (CanceledFailure e) {
      Workflow.newDetachedCancellationScope(() -> Workflow.await(settled)).run();
      throw e;
    }
  }
}
