package io.berth.api;

import io.berth.api.access.JwtSecret;
import io.berth.api.access.TokenMinter;
import java.io.PrintStream;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * {@code ./berth token USER [--admin] [--ttl PT12H]}: prints a user JWT signed with the secret
 * the API uses ({@link JwtSecret}), creating {@code $BERTH_STATE_DIR/jwt-secret} when needed.
 */
public final class TokenCli {
  static final Duration DEFAULT_TTL = Duration.ofHours(12);
  private static final String USAGE = "usage: berth token USER [--admin] [--ttl PT12H]";

  private TokenCli() {}

  public static void main(String[] args) {
    int code = run(args, System.getenv(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    String user = null;
    boolean admin = false;
    Duration ttl = DEFAULT_TTL;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--admin" -> admin = true;
        case "--ttl" -> {
          if (++i >= args.length) {
            err.println(USAGE);
            return 2;
          }
          try {
            ttl = Duration.parse(args[i]);
          } catch (DateTimeParseException e) {
            err.println("--ttl takes an ISO-8601 duration such as PT12H");
            return 2;
          }
        }
        default -> {
          if (user != null || args[i].startsWith("--")) {
            err.println(USAGE);
            return 2;
          }
          user = args[i];
        }
      }
    }
    if (user == null) {
      err.println(USAGE);
      return 2;
    }
    try {
      out.println(TokenMinter.mint(JwtSecret.resolve(env), user, admin, ttl));
      return 0;
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("berth token: " + e.getMessage());
      return 1;
    }
  }
}
