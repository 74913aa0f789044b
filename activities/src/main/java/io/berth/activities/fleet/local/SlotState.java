package io.berth.activities.fleet.local;

/**
 * One slot of a host as its record says. {@code process} null: none recorded. {@code userLabel}:
 * whose directory the process runs on (templates that keep user state), or null.
 */
record SlotState(int index, int port, SlotProcess process, String owner, String userLabel) {
  boolean alive() {
    return process != null && process.alive();
  }
}
