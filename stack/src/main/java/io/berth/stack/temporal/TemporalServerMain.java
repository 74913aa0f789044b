package io.berth.stack.temporal;

/**
 * Temporal's test server as a process of its own, bound to 127.0.0.1 (unlike
 * {@code io.temporal.testserver.TestServer}, which listens on every interface), in real time.
 * History lives in this process's memory: stopping it loses every workflow. For fault tests that
 * need the worker and the server in separate processes; {@code ./berth up} embeds it instead.
 *
 * <p>Usage: {@code java -cp <classpath> io.berth.stack.temporal.TemporalServerMain <port>}
 */
public final class TemporalServerMain {
  private TemporalServerMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 1 || !args[0].matches("[0-9]{1,5}")) {
      System.err.println("usage: TemporalServerMain <port>");
      System.exit(2);
    }
    EmbeddedTemporal server = EmbeddedTemporal.start(Integer.parseInt(args[0]));
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "temporal-shutdown"));
    // A launcher waits for this line.
    System.out.println("temporal test server listening on " + server.target());
    System.out.flush();
    Thread.currentThread().join();
  }
}
