package io.berth.api.access;

import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;

/**
 * One-time launch tickets: 32 random bytes (base64url) bound to a user, a workspace id and a
 * label, kept in Redis for {@link #TTL} under the SHA-256 of the ticket (the ticket itself is
 * never stored), and taken out with GETDEL, so each works once.
 */
@Singleton
public class LaunchTickets {
  public static final Duration TTL = Duration.ofSeconds(60);
  private static final Pattern FORM = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final SecureRandom RANDOM = new SecureRandom();

  public record Ticket(String user, String workspaceId, String label) {}

  private final RedisClient redis;
  private final RedisKeys keys;

  public LaunchTickets(RedisClient redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  public String mint(Ticket t) {
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    // user last: the one part that may hold any printable character; none holds a newline
    redis.set(key(ticket), t.workspaceId() + "\n" + t.label() + "\n" + t.user(), SetParams.setParams().px(TTL.toMillis()));
    return ticket;
  }

  /** The ticket's binding, once; empty for a malformed, unknown, expired or used ticket. */
  public Optional<Ticket> redeem(String ticket) {
    if (ticket == null || !FORM.matcher(ticket).matches()) {
      return Optional.empty();
    }
    String v = redis.getDel(key(ticket));
    if (v == null) {
      return Optional.empty();
    }
    String[] p = v.split("\n", 3);
    if (p.length != 3 || !Labels.validLabel(p[1]) || !Labels.validKey(p[2])) {
      return Optional.empty();
    }
    return Optional.of(new Ticket(p[2], p[0], p[1]));
  }

  /** Not in RedisKeys: only the API reads or writes it. */
  String key(String ticket) {
    return keys.prefix() + "launch:" + Labels.sha256Hex(ticket);
  }
}
