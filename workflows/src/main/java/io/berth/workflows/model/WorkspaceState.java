package io.berth.workflows.model;

public enum WorkspaceState {
  /** The saga is running on a warm spare. */
  ALLOCATING,
  /** No spare: waiting for the capacity workflow to bring one up (cold path). */
  PROVISIONING,
  READY,
  /** Teardown in progress. */
  RELEASING,
  /** Teardown finished; the run is over. */
  RELEASED,
  /** The saga failed and was rolled back. */
  FAILED;

  public boolean settled() {
    return this != ALLOCATING && this != PROVISIONING;
  }

  public boolean live() {
    return this == ALLOCATING || this == PROVISIONING || this == READY;
  }
}
