package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.berth.workflows.activities.SessionActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.Session;

/** The worker's {@link SessionActivities}: its store and its {@link CapacityPokes}, in that order. */
public final class SessionThenPoke implements SessionActivities {
  private final StoreActivities store;
  private final CapacityActivities pokes;

  public SessionThenPoke(StoreActivities store, CapacityActivities pokes) {
    this.store = store;
    this.pokes = pokes;
  }

  @Override
  public void storeSessionThenPoke(Session session, String pokeReason) {
    store.storeSession(session);
    pokes.pokeCapacity(pokeReason);
  }
}
