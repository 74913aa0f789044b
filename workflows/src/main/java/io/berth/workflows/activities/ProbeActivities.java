package io.berth.workflows.activities;

import io.berth.workflows.model.ProbeResult;
import io.berth.workflows.model.Slot;
import io.temporal.activity.ActivityInterface;

/** HTTP readiness of a slot's template. */
@ActivityInterface
public interface ProbeActivities {
  /** One probe: never throws for a slot that does not answer, reports it. */
  ProbeResult probeSlot(Slot slot);

  /** Throws (retryable) until the slot answers; the saga's probe step. */
  void awaitReady(Slot slot);
}
