package io.berth.workflows.activities;

import io.berth.workflows.model.Session;
import io.temporal.activity.ActivityInterface;

/**
 * A warm allocation's last step: the session, then the capacity controller's poke, in one local
 * activity. The poke must not go before the session (a pass that saw the slot tagged without one
 * would take it for a stray), and as a local activity of its own it was one more round of the
 * workflow task on the way to READY.
 */
@ActivityInterface
public interface SessionActivities {
  /** {@link StoreActivities#storeSession}, then {@link CapacityActivities#pokeCapacity} once it is stored. */
  void storeSessionThenPoke(Session session, String pokeReason);
}
