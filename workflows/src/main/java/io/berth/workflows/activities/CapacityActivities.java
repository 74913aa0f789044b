package io.berth.workflows.activities;

import io.temporal.activity.ActivityInterface;

/** The capacity controller's side door for workspace workflows (see {@code CapacityPokes}). */
@ActivityInterface
public interface CapacityActivities {
  /**
   * Asks the capacity controller for a reconcile pass soon (a spare was claimed, a slot came
   * back). Returns at once and never fails: the poke is sent by the worker, coalesced with others,
   * and the controller also reconciles on its timer.
   */
  void pokeCapacity(String reason);

  /** {@link #pokeCapacity} for the controller with workflow id {@code controllerId} (one per template's pool). */
  void pokeCapacityOf(String controllerId, String reason);
}
