package io.berth.workflows.activities;

import io.berth.workflows.model.ClaimRequest;
import io.berth.workflows.model.PassView;
import io.berth.workflows.model.PoolState;
import io.berth.workflows.model.Session;
import io.berth.workflows.model.Slot;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * Redis: the atomic spare pool, claims and the session read model. Every write is idempotent by
 * its request id; every undo tolerates that its step never ran or ran twice.
 */
@ActivityInterface
public interface StoreActivities {
  /** Atomically takes one spare of the template for this request, or returns null when the pool is empty. */
  Slot claimSpare(ClaimRequest request);

  /**
   * Undo of {@link #claimSpare}: the claimed slot goes back to the fleet for recycling, or is
   * quarantined when it proved broken. No-op when the request claimed nothing.
   */
  void unclaim(String requestId, boolean quarantine);

  /** Teardown: the slot was recycled by the fleet, the claim record can go. Idempotent. */
  void forgetClaim(String requestId);

  /**
   * An orphan's slot (its owner's workflow is gone, the slot recycled): the claim that marks it, whoever
   * made it, is dropped so that the slot may rejoin the pool; a claim stays a claim otherwise. Idempotent.
   */
  void forgetClaimOf(String slotId);

  /**
   * Writes {@code ws:<user>} and mints the workspace's heartbeat token: only its hash is stored,
   * the token itself goes to the slot through the fleet and never returns to the workflow.
   */
  void storeSession(Session session);

  /**
   * A resync's session: {@link #storeSession} unless this workspace's session is intact (its hash
   * names this workspace, its token is known, the user is listed). A controller's pass that read the
   * fleet while the saga was in flight (tagged, no session yet) asks for a resync that arrives after
   * READY; rewriting then would revoke the token the slot just got.
   */
  void restoreSession(Session session);

  /** Undo of {@link #storeSession} and a teardown step: deletes the session if it is still this workspace's, revokes its token. */
  void deleteSession(String user, String workspaceId);

  /** Last activity (epoch ms) recorded by heartbeats for this user, 0 when none. */
  long lastActivity(String user);

  /** Spares, quarantined slots and live session count, for the capacity controller. */
  PoolState poolState(String template);

  /**
   * One controller pass's view of the fleet joined with the pool (see {@link PassView}): small at
   * any fleet size. {@code probeOffset} rotates which pooled spares are probed when there are more
   * than a pass probes.
   */
  PassView passView(String template, int probeOffset);

  /** Puts slots whose probe passed into the template's pool (no-op for members already there). */
  void addSpares(String template, List<Slot> slots);

  /**
   * Takes slots out of the pool (dead or to be scaled in) and returns the ids that were still
   * there: a slot missing from the answer was claimed meanwhile and must not be scaled in.
   */
  List<String> removeSpares(String template, List<String> slotIds);

  /** Forgets quarantined slots once their host is gone. */
  void clearQuarantine(List<String> slotIds);
}
