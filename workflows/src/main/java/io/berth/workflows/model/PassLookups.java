package io.berth.workflows.model;

/**
 * What a pass view asks of the read model slot by slot, only for the few slots that need it (see
 * {@link PassViews}): a lookup per slot of a 10,000-slot fleet each pass would cost more than the pass.
 */
public interface PassLookups {
  PassLookups NONE = new PassLookups() {
    @Override
    public ClaimedSlot claimOf(String slotId) {
      return null;
    }

    @Override
    public String sessionSlotOf(String user) {
      return null;
    }
  };

  /** The claim that holds the slot now, null when none. */
  ClaimedSlot claimOf(String slotId);

  /** The slot id of the user's session in the read model, null when it has none. */
  String sessionSlotOf(String user);
}
