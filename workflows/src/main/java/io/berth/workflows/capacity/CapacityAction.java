package io.berth.workflows.capacity;

import io.berth.workflows.model.ClaimedSlot;
import io.berth.workflows.model.PassView.HostSlots;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.SlotStatus;
import java.util.List;

/**
 * One step of a controller pass, as {@link CapacityPlanner} decides it and the workflow runs it.
 * Each runs on its own: one that fails is reported and the pass goes on with the next.
 * {@link #describe()} names it in logs, decisions and tests.
 */
public sealed interface CapacityAction {
  String describe();

  /** Pool members whose process died or whose slot is gone leave the pool. */
  record DropSpares(List<String> slotIds) implements CapacityAction {
    public String describe() {
      return "drop spares " + slotIds;
    }
  }

  /** A fresh process for an unowned slot, so that it can rejoin the pool once its probe passes. */
  record Recycle(Slot slot) implements CapacityAction {
    public String describe() {
      return "recycle " + slot.slotId();
    }
  }

  /**
   * An owner tag the read model does not know: the owner's live workflow rewrites its session
   * ({@code resync}); when none runs and the slot still carries the tag, the slot is an orphan and
   * is given back (recycled, untagged, unprotected, its claim forgotten).
   */
  record ResyncOwner(SlotStatus slot) implements CapacityAction {
    public String describe() {
      return "resync " + slot.owner() + " on " + slot.slot().slotId();
    }
  }

  /**
   * A slot tagged with a user whose session names another slot: left behind by a run that is gone
   * (the user's live workflow would answer a resync). Given back as an orphan while it still
   * carries the tag.
   */
  record GiveBackLeftBehind(SlotStatus slot) implements CapacityAction {
    public String describe() {
      return "give back " + slot.slot().slotId() + " left behind by " + slot.owner();
    }
  }

  /** Protection that neither an owner nor a claim holds is cleared (checked again when it runs). */
  record Unprotect(Slot firstSlot) implements CapacityAction {
    public String describe() {
      return "unprotect " + firstSlot.hostId();
    }
  }

  /** An owned host the group may scale in is protected again. */
  record Protect(String hostId) implements CapacityAction {
    public String describe() {
      return "protect " + hostId;
    }
  }

  /** Claims long without an owner: those whose workflow no longer runs, or holds another slot, are undone. */
  record UndoDeadClaims(List<ClaimedSlot> claims) implements CapacityAction {
    public String describe() {
      return "undo dead claims among " + claims.stream().map(ClaimedSlot::requestId).toList();
    }
  }

  /**
   * A broken host (a quarantined slot, or failed probes): its slots leave the pool, then it is
   * terminated without decrement, so the fleet replaces it.
   */
  record Quarantine(String hostId, List<String> slotIds) implements CapacityAction {
    public String describe() {
      return "quarantine " + hostId;
    }
  }

  /** Quarantined slots to forget: their slot is gone or their host is going. */
  record ClearQuarantine(List<String> slotIds) implements CapacityAction {
    public String describe() {
      return "clear quarantine " + slotIds;
    }
  }

  /** Newcomers whose probe passed join the pool. */
  record AddSpares(List<Slot> slots) implements CapacityAction {
    public String describe() {
      return "add spares " + slots.stream().map(Slot::slotId).toList();
    }
  }

  /** Pooled spares whose probe failed leave the pool; those still there get a fresh process. */
  record ReplaceSpares(List<Slot> slots) implements CapacityAction {
    public String describe() {
      return "replace spares " + slots.stream().map(Slot::slotId).toList();
    }
  }

  /** Launch hosts: the desired capacity goes from {@code from} to {@code to}. */
  record ScaleOut(int from, int to) implements CapacityAction {
    public String describe() {
      return "scale out " + from + "→" + to;
    }
  }

  /**
   * Terminate, with decrement, the first candidates whose slots are all still pooled (a slot
   * claimed meanwhile keeps its host, and the next candidate is tried) until the desired capacity
   * is down from {@code from} to {@code to}.
   */
  record ScaleIn(int from, int to, List<HostSlots> candidates, String why) implements CapacityAction {
    public String describe() {
      return "scale in " + from + "→" + to + " from " + candidates.stream().map(HostSlots::hostId).toList();
    }
  }

  /** Cold-path waiters to wake ({@code spareAvailable}): one per spare, first come first served. */
  record WakeWaiters(List<String> workflowIds) implements CapacityAction {
    public String describe() {
      return "wake " + workflowIds;
    }
  }

  /** Waiters turned away ({@code noCapacity}): the fleet is at its maximum and no queue is kept. */
  record DenyWaiters(List<String> workflowIds, String reason) implements CapacityAction {
    public String describe() {
      return "deny " + workflowIds;
    }
  }
}
