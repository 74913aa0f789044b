package io.berth.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded polling: the only way tests wait. */
public final class Await {
  private Await() {}

  public static void until(String what, Duration bound, BooleanSupplier condition) {
    value(what, bound, () -> condition.getAsBoolean() ? Boolean.TRUE : null);
  }

  /** Polls until the supplier returns non-null (exceptions count as not yet), or fails after the bound. */
  public static <T> T value(String what, Duration bound, Supplier<T> supplier) {
    long deadline = System.nanoTime() + bound.toNanos();
    Throwable last = null;
    while (true) {
      try {
        T v = supplier.get();
        if (v != null) {
          return v;
        }
      } catch (RuntimeException | AssertionError e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        AssertionError err = new AssertionError("timed out after " + bound + " waiting for " + what);
        if (last != null) {
          err.initCause(last);
        }
        throw err;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
