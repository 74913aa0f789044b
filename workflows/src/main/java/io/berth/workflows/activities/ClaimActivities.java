package io.berth.workflows.activities;

import io.berth.workflows.model.ClaimedSlot;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/** What the capacity controller asks Temporal itself about claims (see {@code LiveClaims}). */
@ActivityInterface
public interface ClaimActivities {
  /**
   * The request ids among {@code claims} whose user has no running workspace workflow, or one that
   * holds another slot (the user allocated again after the claim's run was lost): nothing will tag,
   * undo or tear down their slots. Asked when the activity runs; a claim whose workflow cannot be
   * asked (Temporal does not answer) is not answered dead.
   */
  List<String> deadClaims(List<ClaimedSlot> claims);
}
