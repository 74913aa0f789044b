package io.berth.stack.bench;

import io.berth.stack.temporal.EmbeddedTemporal;

/**
 * The embedded Temporal test server alone, on 127.0.0.1:{@code port}, as a child process of the
 * {@code memory} scenario so that the measured heap holds the worker and not every history.
 * Exits when its parent closes its standard input.
 */
public final class TemporalServerMain {
  private TemporalServerMain() {}

  public static void main(String[] args) throws Exception {
    try (EmbeddedTemporal server = EmbeddedTemporal.start(Integer.parseInt(args[0]))) {
      System.out.println("ready " + server.target());
      System.out.flush();
      while (System.in.read() >= 0) {
        // the parent keeps the pipe open while it needs the server
      }
    }
  }
}
