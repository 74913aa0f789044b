package io.berth.api.access;

import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;

/**
 * Who may open a workspace through the gateway (see docs/ACCESS.md). The owner asks the API for
 * a launch link (JWT); opening it on the workspace's own host redeems the one-time ticket and
 * sets the workspace cookie there; Nginx then asks {@link #admits} about every request.
 * A cookie admits only while the user's session in Redis is still the workspace it was minted
 * for, so a release, a reclaim or a new allocation ends it.
 */
@Singleton
public class WorkspaceAccess {
  /** What the launch endpoint answers. */
  public sealed interface Launch {
    /** A good ticket: set this cookie (a full Set-Cookie header value) and go to the workspace. */
    record Granted(String setCookie) implements Launch {}

    /** A spent or unknown ticket, but the browser already holds a valid cookie for this host. */
    record AlreadyIn() implements Launch {}

    record Refused() implements Launch {}
  }

  /** Where a routed request goes: {@code upstream} is {@code <ip>:<port>} ({@code [v6]:port}). */
  public record Route(String label, String upstream) {}

  /** The answer to Nginx's auth subrequest. */
  public sealed interface Verdict {
    /**
     * 204: let it through; {@code route} is null when the caller did not ask for the record (files
     * mode); {@code key} is the workspace key whose workspace it is, null when nothing says (files
     * mode without cookies).
     */
    record Pass(Route route, String key) implements Verdict {}

    /** 401: no valid cookie for this host; {@code route} (may be null) still names the label. */
    record Denied(Route route) implements Verdict {}

    /** 403: no route record for this host: no workspace here. */
    record NoRoute() implements Verdict {}
  }

  /** What a route record's address may look like before it reaches {@code proxy_pass}: an IP literal's characters. */
  private static final Pattern ADDRESS = Pattern.compile("[0-9a-fA-F:.]{2,45}");
  private static final Pattern PORT = Pattern.compile("[1-9][0-9]{0,4}");

  private final RedisClient redis;
  private final RedisKeys keys;
  private final AccessCookies cookies;
  private final LaunchTickets tickets;
  private final WorkspaceSettings settings;
  private final GatewayRouting routing;

  public WorkspaceAccess(RedisClient redis, RedisKeys keys, AccessCookies cookies, LaunchTickets tickets,
                         WorkspaceSettings settings, GatewayRouting routing) {
    this.routing = routing;
    this.redis = redis;
    this.keys = keys;
    this.cookies = cookies;
    this.tickets = tickets;
    this.settings = settings;
  }

  public boolean enabled() {
    return cookies.enabled();
  }

  /**
   * A fresh launch link for the user's routed workspace, or empty when there is none (or it is no
   * longer {@code workspaceId}, when given). Without cookie auth the link is the workspace URL.
   */
  public Optional<String> launchUrl(String user, @Nullable String workspaceId) {
    Session s = session(user);
    if (s == null || (workspaceId != null && !workspaceId.equals(s.workspaceId()))) {
      return Optional.empty();
    }
    String url = settings.urlFor(s.label());
    if (!cookies.enabled()) {
      return Optional.of(url);
    }
    String ticket = tickets.mint(new LaunchTickets.Ticket(user, s.workspaceId(), s.label()));
    return Optional.of(URI.create(url).resolve("/.berth/launch?t=" + ticket).toString());
  }

  /** Redeems a launch ticket on the host it was opened on. */
  public Launch launch(@Nullable String host, @Nullable String ticket, @Nullable String cookieHeader) {
    String label = labelOf(host);
    if (label == null) {
      return new Launch.Refused();
    }
    Optional<LaunchTickets.Ticket> t = tickets.redeem(ticket);
    if (t.isPresent() && t.get().label().equals(label) && stillTheirs(t.get().user(), t.get().workspaceId(), label)) {
      long expires = System.currentTimeMillis() / 1000 + settings.maxLifetime().toSeconds();
      String value = cookies.mint(new AccessCookies.Grant(t.get().user(), t.get().workspaceId(), label, expires));
      return new Launch.Granted(setCookie(value));
    }
    return admits(host, cookieHeader) ? new Launch.AlreadyIn() : new Launch.Refused();
  }

  /**
   * True when the Cookie header holds a valid workspace cookie minted for this host's label, for
   * a workspace that is still the user's current one.
   */
  public boolean admits(@Nullable String host, @Nullable String cookieHeader) {
    return !cookies.enabled() || admittedKey(host, cookieHeader).isPresent();
  }

  /** The workspace key of the cookie that admits this request (cookie auth), or empty. */
  private Optional<String> admittedKey(@Nullable String host, @Nullable String cookieHeader) {
    String label = labelOf(host);
    if (label == null) {
      return Optional.empty();
    }
    long now = System.currentTimeMillis() / 1000;
    for (String value : AccessCookies.values(cookieHeader)) {
      Optional<AccessCookies.Grant> g = cookies.read(value, now);
      if (g.isPresent() && g.get().label().equals(label) && stillTheirs(g.get().user(), g.get().workspaceId(), label)) {
        return Optional.of(g.get().user());
      }
    }
    return Optional.empty();
  }

  /**
   * The workspace key a browser's cookie for this host was minted for, checked without Redis (the
   * workspace may be gone): who owns this address as far as this browser can show.
   */
  public Optional<String> cookieOwner(@Nullable String host, @Nullable String cookieHeader) {
    String label = labelOf(host);
    if (label == null || !cookies.enabled()) {
      return Optional.empty();
    }
    return grantsFor(label, cookieHeader).stream().map(AccessCookies.Grant::user).findFirst();
  }

  /**
   * Nginx's auth subrequest. With dynamic routing (or when Nginx asks, {@code routeLookup}) the
   * answer comes from the label's route record, together with the cookie's session in one Redis
   * round trip: no record is {@link Verdict.NoRoute}, whatever the cookie. Otherwise (files mode)
   * only the cookie counts, as {@link #admits} says.
   */
  public Verdict check(@Nullable String host, @Nullable String cookieHeader, boolean routeLookup) {
    if (!routeLookup && !routing.dynamic()) {
      if (!cookies.enabled()) {
        return new Verdict.Pass(null, null);
      }
      return admittedKey(host, cookieHeader).<Verdict>map(key -> new Verdict.Pass(null, key))
          .orElseGet(() -> new Verdict.Denied(null));
    }
    String label = labelOf(host);
    if (label == null) {
      return new Verdict.NoRoute();
    }
    String routeKey = keys.route(label);
    List<AccessCookies.Grant> grants = cookies.enabled() ? grantsFor(label, cookieHeader) : List.of();
    List<String> record;
    List<String> session = null;
    if (grants.isEmpty()) {
      record = redis.hmget(routeKey, "address", "port", "user");
    } else {
      try (AbstractPipeline p = redis.pipelined()) {
        Response<List<String>> r = p.hmget(routeKey, "address", "port", "user");
        Response<List<String>> s = p.hmget(keys.workspace(grants.get(0).user()), "workspaceId", "label");
        p.sync();
        record = r.get();
        session = s.get();
      }
    }
    Route route = route(label, record);
    if (route == null) {
      return new Verdict.NoRoute();
    }
    if (!cookies.enabled()) {
      return new Verdict.Pass(route, record.get(2));
    }
    if (session != null && label.equals(session.get(1)) && grants.get(0).user().equals(record.get(2))) {
      for (AccessCookies.Grant g : grants) {
        if (g.workspaceId().equals(session.get(0))) {
          return new Verdict.Pass(route, record.get(2));
        }
      }
    }
    return new Verdict.Denied(route);
  }

  /** True when the label has a route record (dynamic routing's readiness check; no cookie needed). */
  public Optional<String> routedLabel(@Nullable String host) {
    String label = labelOf(host);
    return label != null && redis.exists(keys.route(label)) ? Optional.of(label) : Optional.empty();
  }

  /**
   * The valid, unexpired cookies minted for this label, checked without Redis. The label is
   * derived from the workspace key, so every one of them names the same key; only their workspace ids differ.
   */
  private List<AccessCookies.Grant> grantsFor(String label, @Nullable String cookieHeader) {
    long now = System.currentTimeMillis() / 1000;
    List<AccessCookies.Grant> out = null;
    for (String value : AccessCookies.values(cookieHeader)) {
      Optional<AccessCookies.Grant> g = cookies.read(value, now);
      if (g.isPresent() && g.get().label().equals(label) && Labels.validKey(g.get().user())
          && label.equals(Labels.labelFor(g.get().user()))) {
        if (out == null) {
          out = new java.util.ArrayList<>(2);
        }
        out.add(g.get());
      }
    }
    return out == null ? List.of() : out;
  }

  /** The record as Nginx's proxy_pass wants it, or null when it is missing or malformed. */
  private static Route route(String label, List<String> record) {
    String address = record.get(0);
    String port = record.get(1);
    if (address == null || port == null || !ADDRESS.matcher(address).matches() || !PORT.matcher(port).matches()
        || Integer.parseInt(port) > 65535) {
      return null;
    }
    return new Route(label, (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port);
  }

  /** The label of {@code <label>.<domain>[:port]}, or null for any other host. */
  String labelOf(@Nullable String host) {
    if (host == null) {
      return null;
    }
    String h = host.trim().toLowerCase(Locale.ROOT).replaceFirst(":\\d{1,5}$", "");
    int dot = h.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    String label = h.substring(0, dot);
    return Labels.validLabel(label) && h.equals(settings.hostnameFor(label)) ? label : null;
  }

  /** The label is derived from the workspace key (the user id, or user#name), and its session is still this workspace. */
  private boolean stillTheirs(String user, String workspaceId, String label) {
    if (!Labels.validKey(user) || !label.equals(Labels.labelFor(user))) {
      return false;
    }
    Session s = session(user);
    return s != null && s.workspaceId().equals(workspaceId) && s.label().equals(label);
  }

  private record Session(String workspaceId, String label) {}

  private Session session(String user) {
    List<String> v = redis.hmget(keys.workspace(user), "workspaceId", "label");
    String workspaceId = v.get(0);
    String label = v.get(1);
    if (workspaceId == null || label == null || !Labels.validLabel(label)) {
      return null;
    }
    return new Session(workspaceId, label);
  }

  /** Host-only (no Domain): the browser sends it back to this workspace's host and no other. */
  private String setCookie(String value) {
    return AccessCookies.NAME + "=" + value + "; Path=/; Max-Age=" + settings.maxLifetime().toSeconds()
        + "; HttpOnly; SameSite=Lax" + (settings.httpsWorkspaces() ? "; Secure" : "");
  }
}
