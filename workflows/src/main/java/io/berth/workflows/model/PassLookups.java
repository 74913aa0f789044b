package io.berth.workflows.model;

import java.util.List;
import java.util.Map;

/**
 * What a pass view asks of the read model beyond the pool, only for the few slots that need it (see
 * {@link PassViews}), each question asked once for all of them.
 */
public interface PassLookups {
  PassLookups NONE = new PassLookups() {
    @Override
    public Map<String, ClaimedSlot> claimsOf(List<String> slotIds) {
      return Map.of();
    }

    @Override
    public String sessionSlotOf(String user) {
      return null;
    }
  };

  /** The claims that hold any of these slots now, by slot id. */
  Map<String, ClaimedSlot> claimsOf(List<String> slotIds);

  /** The slot id of the user's session in the read model, null when it has none. */
  String sessionSlotOf(String user);
}
