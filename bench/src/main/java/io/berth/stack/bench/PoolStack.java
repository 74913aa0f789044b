package io.berth.stack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The stack the warm, direct and heartbeat scenarios share: a fixed fleet of one-slot hosts,
 * all spares, started on first use.
 */
final class PoolStack implements AutoCloseable {
  final int size;
  final ActivityTimer timer = new ActivityTimer();
  private final boolean demo;
  private Path www;
  private BenchStack stack;

  PoolStack(int size, boolean demo) {
    this.size = size;
    this.demo = demo || Templates.python() == null;
  }

  BenchStack stack() throws IOException {
    if (stack == null) {
      Map<String, String> env = new HashMap<>();
      String n = String.valueOf(size);
      env.put("BERTH_SPARES", n);
      env.put("BERTH_MIN_HOSTS", n);
      env.put("BERTH_MAX_HOSTS", n);
      env.put("BERTH_SLOTS_PER_HOST", "1");
      env.put("BERTH_RECONCILE_INTERVAL", "PT1S");
      env.put("BERTH_ALLOCATE_WAIT", "PT60S");
      // Short enough that a 20 s heartbeat run crosses several windows, so coalescing shows.
      env.put("BERTH_HEARTBEAT_WINDOW", "PT5S");
      if (!demo) {
        www = Templates.www();
        env.put("BERTH_TEMPLATE", "command");
        env.put("BERTH_TEMPLATE_COMMAND", Templates.pythonCommand(www));
      }
      System.out.println("bench: starting the pool stack (" + size + " spares, " + templateDescription() + ")");
      stack = BenchStack.start(env, timer);
      stack.awaitSpares(size, Duration.ofMinutes(3));
    }
    return stack;
  }

  String templateDescription() {
    return demo ? "`demo` (the built-in page, one small JVM per slot)"
        : "`command` running `python3 -m http.server` per slot (a real process per workspace, lighter than the demo "
            + "JVM; `--demo` uses the demo template)";
  }

  /** Untimed: releases through the API, waits for every run to end and for the pool to be full again. */
  void releaseAll(List<String> users) throws Exception {
    BenchStack s = stack();
    Rounds.parallel(users, 10, u -> {
      int status = s.release(u).statusCode();
      if (status != 202 && status != 404) {
        throw new IllegalStateException("release " + u + ": " + status);
      }
    });
    Rounds.parallel(users, 10, u -> {
      if (!s.awaitEnd(u, Duration.ofSeconds(60))) {
        throw new IllegalStateException(u + " did not finish releasing within 60 s");
      }
    });
    s.awaitSpares(size, Duration.ofMinutes(2));
  }

  @Override
  public void close() {
    if (stack != null) {
      stack.close();
      stack = null;
    }
    if (www != null) {
      BenchStack.deleteTree(www);
    }
  }
}
