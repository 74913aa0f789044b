package io.berth.agent;

/**
 * One line per event on stdout, which systemd sends to the journal (it adds the time). Messages
 * name the slot, the user and what the operator can do; tokens never reach a message.
 */
final class Log {
  private Log() {}

  static void info(String message) {
    System.out.println("INFO  " + message);
  }

  static void warn(String message) {
    System.out.println("WARN  " + message);
  }

  static void error(String message) {
    System.out.println("ERROR " + message);
  }
}
