package io.berth.agent;

import java.time.Duration;

/** A bounded number of attempts with doubling pauses; the last failure is rethrown. */
final class Retry {
  /** One attempt of an operation that may fail with an exception. */
  interface Attempt<T> {
    T run() throws Exception;
  }

  private Retry() {}

  static <T> T call(String what, int attempts, Duration firstPause, Attempt<T> attempt) throws Exception {
    Duration pause = firstPause;
    for (int i = 1; ; i++) {
      try {
        return attempt.run();
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        if (i >= attempts) {
          throw e;
        }
        Log.warn(what + " failed (attempt " + i + " of " + attempts + "): " + describe(e) + "; retrying in " + pause.toMillis() + " ms");
        Thread.sleep(pause.toMillis());
        pause = pause.multipliedBy(2);
      }
    }
  }

  /** The exception's type and message: never a request, so never a token. */
  static String describe(Throwable e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}
