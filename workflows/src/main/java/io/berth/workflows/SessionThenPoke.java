package io.berth.workflows;

import io.berth.workflows.activities.CapacityActivities;
import io.berth.workflows.activities.SessionActivities;
import io.berth.workflows.activities.StoreActivities;
import io.berth.workflows.model.Session;
import java.util.function.Function;

/**
 * The worker's {@link SessionActivities}: its store and its {@link CapacityPokes}, in that order.
 * The poke goes to the controller of the session's template ({@code controllerOf}).
 */
public final class SessionThenPoke implements SessionActivities {
  private final StoreActivities store;
  private final CapacityActivities pokes;
  private final Function<String, String> controllerOf;

  /** One controller for every template: {@link CapacityWorkflow#ID}. */
  public SessionThenPoke(StoreActivities store, CapacityActivities pokes) {
    this(store, pokes, template -> CapacityWorkflow.ID);
  }

  /** {@code controllerOf}: a template's name to its controller's workflow id (e.g. {@code Pools::controllerId}). */
  public SessionThenPoke(StoreActivities store, CapacityActivities pokes, Function<String, String> controllerOf) {
    this.store = store;
    this.pokes = pokes;
    this.controllerOf = controllerOf;
  }

  @Override
  public void storeSessionThenPoke(Session session, String pokeReason) {
    store.storeSession(session);
    String controller = session.template() == null ? CapacityWorkflow.ID : controllerOf.apply(session.template());
    pokes.pokeCapacityOf(controller, pokeReason);
  }
}
