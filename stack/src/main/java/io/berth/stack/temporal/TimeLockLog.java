package io.berth.stack.temporal;

import io.temporal.internal.testservice.TestServicesStarter;
import java.lang.reflect.Field;
import java.util.LinkedList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a leak in Temporal's test server (temporal-test-server 1.38.0) that makes a long-lived
 * embedded server slower with every task it has ever handled.
 *
 * <p>Its {@code SelfAdvancingTimerImpl} keeps a {@code LinkedList lockEvents} "for debugging
 * purposes only": every time-skipping lock taken through a request context appends a LOCK event and
 * its release appends an UNLOCK event, and neither is ever removed. A timer's own lock handle, on
 * release, removes its event with {@code LinkedList.remove(Object)}, a scan from the head of that
 * ever-growing list, under the timer's global lock, which every request that reads the server's
 * clock also takes. Measured in the bench's memory scenario: ~34 events per workspace started, i.e.
 * ~340,000 at 10,000 workspaces, and starts slowed from ~8/s to ~0.25/s between 1,000 and 5,600
 * (jstack: the timer threads in {@code LinkedList.remove} from {@code unlockFromHandleLocked}).
 *
 * <p>The list is read only to print diagnostics for an unbalanced lock, so it is swapped for one
 * that records nothing and answers every removal with success (the check that follows a removal).
 * If the field is not where this version keeps it, the server runs as it is and a warning says so.
 */
final class TimeLockLog {
  private static final Logger log = LoggerFactory.getLogger(TimeLockLog.class);

  private TimeLockLog() {}

  static void stopRecording(TestServicesStarter services) {
    try {
      Object timer = field(TestServicesStarter.class, "selfAdvancingTimer").get(services);
      Field events = field(timer.getClass(), "lockEvents");
      if (events.getType() != LinkedList.class) {
        throw new NoSuchFieldException("lockEvents is a " + events.getType());
      }
      events.set(timer, new Unrecorded());
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("could not stop the test server's lock-event log (it slows down as it grows): {}", e.toString());
    }
  }

  private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
    Field f = owner.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  /** Records nothing; every removal succeeds. */
  private static final class Unrecorded extends LinkedList<Object> {
    @Override
    public boolean add(Object e) {
      return true;
    }

    @Override
    public boolean remove(Object o) {
      return true;
    }
  }
}
