package io.berth.stack.bench;

import java.util.ArrayDeque;
import java.util.Deque;

/** What a scenario holds open (stacks, servers, child processes), closed on Ctrl-C too. */
final class Cleanup {
  private static final Deque<AutoCloseable> OPEN = new ArrayDeque<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Cleanup::closeAll, "bench-cleanup"));
  }

  private Cleanup() {}

  static synchronized <T extends AutoCloseable> T register(T c) {
    OPEN.push(c);
    return c;
  }

  static synchronized void closed(AutoCloseable c) {
    OPEN.remove(c);
  }

  static synchronized void closeAll() {
    while (!OPEN.isEmpty()) {
      try {
        OPEN.pop().close();
      } catch (Exception e) {
        System.err.println("bench: cleanup: " + e);
      }
    }
  }
}
