package io.berth.api.access;

import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.Allocations;
import io.berth.api.workspaces.OfferedTemplates;
import io.berth.api.workspaces.WorkspaceJson;
import io.berth.api.workspaces.WorkspaceSettings;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import redis.clients.jedis.RedisClient;

/**
 * Wake on visit: a new workspace for the owner of an address whose workspace is gone, with the
 * template of its last run (while it is still offered; its pool's controller hears of it), through the same quotas and limits as {@code POST /api/workspaces};
 * then the owner's cookie for it, so the browser goes on to the workspace without signing in again.
 */
@Singleton
public class Wakes {
  /** What the wake page shows; {@code entered}: the answer set the cookie of the READY workspace. */
  @Serdeable
  public record Status(String state, @Nullable String template, @Nullable String reason, boolean entered,
                       List<WorkspaceJson.Step> steps) {
    static Status of(WorkspaceView v, boolean entered) {
      return new Status(v.state().name(), v.template(), v.reason(), entered, WorkspaceJson.of(v).steps());
    }

    static Status none() {
      return new Status("NONE", null, null, false, List.of());
    }
  }

  /** A status and, when the workspace is READY and routed, the Set-Cookie header that opens it. */
  public record Answer(Status status, @Nullable String setCookie) {}

  static final Duration FAILED_RETRY_AFTER = Duration.ofSeconds(5);

  private final WorkspaceWorkflows workflows;
  private final Allocations allocations;
  private final WorkspaceSettings settings;
  private final OfferedTemplates templates;
  private final AccessCookies cookies;
  private final RedisClient redis;
  private final RedisKeys keys;

  public Wakes(WorkspaceWorkflows workflows, Allocations allocations, WorkspaceSettings settings,
               OfferedTemplates templates, AccessCookies cookies, RedisClient redis, RedisKeys keys) {
    this.templates = templates;
    this.workflows = workflows;
    this.allocations = allocations;
    this.settings = settings;
    this.cookies = cookies;
    this.redis = redis;
    this.keys = keys;
  }

  /**
   * Allocates the owner's workspace (or reaches the one on its way) and answers as soon as the
   * allocate wait does: READY with the cookie, or ALLOCATING/PROVISIONING for the page to follow.
   * Quota and capacity refusals are the API's 429/503 with Retry-After.
   */
  public Answer wake(WakeRequests.Owner owner) {
    Optional<WorkspaceView> last = workflows.latest(owner.key());
    if (last.isEmpty() || !live(last.get())) {
      // a run on its way was counted when it started; only a new one is counted here
      allocations.admit(Labels.userOf(owner.key()), owner.key());
    }
    WorkspaceView view = allocations.allocate(owner.key(), templates.stillOffered(last.map(WorkspaceView::template)
        .orElse(null)));
    if (view.state() == WorkspaceState.FAILED) {
      throw ApiException.unavailable("the workspace could not be started: " + view.reason(), FAILED_RETRY_AFTER);
    }
    if (view.state() == WorkspaceState.RELEASING || view.state() == WorkspaceState.RELEASED) {
      throw ApiException.conflict("the previous workspace is still being released; try again shortly");
    }
    return answer(owner, view);
  }

  /** The owner's latest run as the page shows it; never starts anything. */
  public Status status(WakeRequests.Owner owner) {
    return workflows.latest(owner.key()).map(v -> Status.of(v, false)).orElseGet(Status::none);
  }

  /** The cookie of the owner's READY workspace, or 409 while there is none to enter. */
  public Answer enter(WakeRequests.Owner owner) {
    WorkspaceView view = workflows.latest(owner.key())
        .orElseThrow(() -> ApiException.conflict("the workspace is not ready yet"));
    Answer a = answer(owner, view);
    if (a.setCookie() == null) {
      throw ApiException.conflict("the workspace is " + view.state() + ", not ready yet");
    }
    return a;
  }

  private Answer answer(WakeRequests.Owner owner, WorkspaceView view) {
    String setCookie = view.state() == WorkspaceState.READY ? setCookie(owner) : null;
    return new Answer(Status.of(view, setCookie != null), setCookie);
  }

  /**
   * The cookie of the workspace the owner's session names now. It ends when the cookie that asked
   * ends (at most the max lifetime from now): a wake never lengthens what a launch granted.
   */
  @Nullable
  private String setCookie(WakeRequests.Owner owner) {
    List<String> s = redis.hmget(keys.workspace(owner.key()), "workspaceId", "label");
    if (s.get(0) == null || !owner.label().equals(s.get(1))) {
      return null;
    }
    long now = System.currentTimeMillis() / 1000;
    long expires = Math.min(owner.cookieExpiresAtSeconds(), now + settings.maxLifetime().toSeconds());
    if (expires <= now) {
      return null;
    }
    String value = cookies.mint(new AccessCookies.Grant(owner.key(), s.get(0), owner.label(), expires));
    return AccessCookies.NAME + "=" + value + "; Path=/; Max-Age=" + (expires - now) + "; HttpOnly; SameSite=Lax"
        + (settings.httpsWorkspaces() ? "; Secure" : "");
  }

  private static boolean live(WorkspaceView v) {
    return v.state() == WorkspaceState.ALLOCATING || v.state() == WorkspaceState.PROVISIONING
        || v.state() == WorkspaceState.READY;
  }
}
