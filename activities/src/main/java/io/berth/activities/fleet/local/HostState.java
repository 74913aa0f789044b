package io.berth.activities.fleet.local;

import io.berth.workflows.model.Host;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.util.List;

/**
 * One host as its record in Redis says; {@code seq} is the number of its id, {@code h-<seq>};
 * {@code template} the template (pool) its slots run, null in a record that does not say.
 */
record HostState(String id, long seq, String state, boolean protect, long launchedAt, List<SlotState> slots,
                 String template) {
  static final String PENDING = "PENDING";
  static final String RUNNING = "RUNNING";
  static final String TERMINATING = "TERMINATING";

  boolean running() {
    return RUNNING.equals(state);
  }

  boolean pending() {
    return PENDING.equals(state);
  }

  boolean terminating() {
    return TERMINATING.equals(state);
  }

  /** Launching or running: what counts against the desired capacity. */
  boolean up() {
    return pending() || running();
  }

  /** The slot of that index, null when the host (possibly null) has none. */
  static SlotState slotOf(HostState h, int index) {
    return h == null || index >= h.slots().size() ? null : h.slots().get(index);
  }

  Host toHost(String template) {
    List<SlotStatus> statuses = slots.stream().map(s -> new SlotStatus(
        new Slot(Slot.idOf(id, s.index()), id, s.index(), LocalFleet.ADDRESS, s.port(), template),
        s.owner(), s.alive())).toList();
    return new Host(id, state, LocalFleet.ADDRESS, protect, launchedAt, statuses);
  }
}
