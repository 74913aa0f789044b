package io.berth.workflows.model;

import java.util.List;

/**
 * What one pass of the capacity controller needs of the fleet and the pool, joined by the activity
 * ({@code PassViews.of}) so that the workflow's history carries counts and the few slots that need
 * something done, not the whole fleet: at 10,000 one-slot hosts the full {@link FleetSnapshot} is
 * ~2.5 MB, past Temporal's 2 MB payload limit. Every list is capped (see the limits below); what a
 * pass leaves out, a later pass finds.
 *
 * @param runningHosts hosts RUNNING; {@code launching}: some host is still PENDING
 * @param slots every slot of every host; {@code activeSlots}: those with an owner who has a session
 * @param spares pool members whose slot is alive (dead and gone ones are listed, not counted)
 * @param sessions users with a session in the read model
 * @param deadSpares pool members whose process died (the host is still there: recycle them)
 * @param goneSpares pool members whose slot no longer exists
 * @param strayOwners owner tags of users with no session (a live workflow resyncs, else an orphan)
 * @param unprotect one slot of each running, protected host that has no owner
 * @param quarantinedHosts ownerless hosts that hold a quarantined slot, with their slots
 * @param quarantineCleared quarantined slot ids to forget: the slot is gone or its host is going
 * @param probe slots to probe: every newcomer (unowned, alive, on a running host, not pooled) first,
 *     then pooled spares from {@code probeOffset} on, at most {@link #MAX_PROBES}
 * @param scaleIn running hosts with no owner and no protection, newest first, up to
 *     {@link #SCALE_IN_SLOTS} slots in all
 * @param hosts every host with its slots, only while the fleet has at most {@link #DETAIL_SLOTS}
 *     slots (for the status query); empty past that
 * @param unprotected running hosts with an owner and no scale-in protection
 * @param claims claims on unowned slots of running hosts, whose user is known
 * @param leftBehind slots tagged with a user who has a session on another slot
 * @param claimsTotal spares of this template claimed since the store began counting (the demand
 *                    term's input: the controller keeps the totals it saw, by its own clock)
 */
public record PassView(int desired, int min, int max, int runningHosts, boolean launching, int slots,
                       int activeSlots, int spares, int sessions, List<Slot> deadSpares, List<String> goneSpares,
                       List<SlotStatus> strayOwners, List<Slot> unprotect, List<HostSlots> quarantinedHosts,
                       List<String> quarantineCleared, List<ProbeCandidate> probe, List<HostSlots> scaleIn,
                       List<Host> hosts, List<String> unprotected,
                       List<ClaimedSlot> claims, List<SlotStatus> leftBehind, long claimsTotal) {
  public static final int MAX_PROBES = 256;
  public static final int MAX_LISTED = 200;
  public static final int SCALE_IN_SLOTS = 512;
  public static final int DETAIL_SLOTS = 256;

  public PassView(int desired, int min, int max, int runningHosts, boolean launching, int slots,
                  int activeSlots, int spares, int sessions, List<Slot> deadSpares, List<String> goneSpares,
                  List<SlotStatus> strayOwners, List<Slot> unprotect, List<HostSlots> quarantinedHosts,
                  List<String> quarantineCleared, List<ProbeCandidate> probe, List<HostSlots> scaleIn,
                  List<Host> hosts, List<String> unprotected,
                  List<ClaimedSlot> claims, List<SlotStatus> leftBehind) {
    this(desired, min, max, runningHosts, launching, slots, activeSlots, spares, sessions, deadSpares, goneSpares,
        strayOwners, unprotect, quarantinedHosts, quarantineCleared, probe, scaleIn, hosts, unprotected, claims,
        leftBehind, 0);
  }

  /** This view with the store's running count of claims (the join does not read it; the store does). */
  public PassView withClaimsTotal(long total) {
    return new PassView(desired, min, max, runningHosts, launching, slots, activeSlots, spares, sessions, deadSpares,
        goneSpares, strayOwners, unprotect, quarantinedHosts, quarantineCleared, probe, scaleIn, hosts, unprotected,
        claims, leftBehind, total);
  }

  /** A host and its slots. */
  public record HostSlots(String hostId, List<Slot> slots) {}

  /**
   * A slot to probe. {@code spare}: already pooled (a failed probe takes it out); {@code hostOwned}:
   * another slot of its host has an owner (the host is never terminated for failing probes);
   * {@code hostSlots}: how many slots the host has (their ids leave the pool with it).
   */
  public record ProbeCandidate(Slot slot, boolean spare, boolean hostOwned, int hostSlots) {}
}
