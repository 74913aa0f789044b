package io.berth.workflows;

import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * When an idle workspace goes: a deadline that activity and extends move later, never earlier and
 * never past the end of the workspace's lifetime. A wait on it wakes as soon as it moves (cf.
 * samples-java's {@code updatabletimer}), so the caller can set up its next wake-up from the new
 * deadline. Workflow state: use it from workflow code only.
 */
final class IdleDeadline {
  private final long idleMillis;
  private final long lifetimeEnd;
  private long at;
  /** Bumped by every move: a wait compares it to wake up. */
  private int moves;

  IdleDeadline(long at, long idleMillis, long lifetimeEnd) {
    this.idleMillis = idleMillis;
    this.lifetimeEnd = lifetimeEnd;
    this.at = Math.min(at, lifetimeEnd);
  }

  /** The deadline of a workspace last active at {@code activeAt}. */
  static IdleDeadline after(long activeAt, long idleMillis, long lifetimeEnd) {
    return new IdleDeadline(activeAt + idleMillis, idleMillis, lifetimeEnd);
  }

  long at() {
    return at;
  }

  long lifetimeEnd() {
    return lifetimeEnd;
  }

  /** A deadline at the end of the lifetime is never armed: the lifetime ends the workspace then anyway. */
  boolean atLifetimeEnd() {
    return at >= lifetimeEnd;
  }

  /** Activity at {@code activeAt} keeps the workspace for an idle timeout from then. */
  boolean activeAt(long activeAt) {
    return moveTo(activeAt + idleMillis);
  }

  /** What {@link #moveTo} would make of {@code wanted}, without moving. */
  long movedTo(long wanted) {
    return Math.min(Math.max(at, wanted), lifetimeEnd);
  }

  /** Moves the deadline to {@code wanted} if that is later, capped at the lifetime's end; true if it moved. */
  boolean moveTo(long wanted) {
    long next = movedTo(wanted);
    if (next == at) {
      return false;
    }
    at = next;
    moves++;
    return true;
  }

  /** The deadline that expired, for the record, even if activity stamped after it moved this one. */
  void expiredAt(long deadline) {
    at = deadline;
  }

  /** Waits until {@code wakeAt} (workflow clock), or until the deadline moves or {@code orElse} holds. */
  void awaitUntil(long wakeAt, Supplier<Boolean> orElse) {
    int seen = moves;
    long wait = Math.max(0, wakeAt - Workflow.currentTimeMillis());
    Workflow.await(Duration.ofMillis(wait), () -> moves != seen || orElse.get());
  }
}
