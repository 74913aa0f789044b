package io.berth.api.workspaces;

import io.berth.api.RequestBodies;
import io.berth.api.RequestFields;
import io.berth.api.access.LaunchTickets;
import io.berth.api.access.Users;
import io.berth.api.access.WorkspaceAccess;
import io.berth.api.errors.ApiException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.berth.workflows.Labels;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;
import io.micronaut.serde.annotation.Serdeable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;

/**
 * The caller's own workspaces: their default one, and named ones ({@code name}, {@code ?name=})
 * when {@code berth.workspace.per-user} allows more than one. A workspace's key (see
 * {@code Labels}) is built here from the JWT's {@code sub} and the name, so a caller only ever
 * reaches workspaces whose key belongs to them. Every call waits on Temporal, so none runs on the
 * event loop.
 */
@Controller("/api/workspaces")
@Secured(SecurityRule.IS_AUTHENTICATED)
@ExecuteOn(TaskExecutors.BLOCKING)
public class WorkspaceController {
  static final String ME = "/api/workspaces/me";

  private final WorkspaceWorkflows workflows;
  private final UserQuotas quotas;
  private final WorkspaceSettings settings;
  private final WorkspaceAccess access;
  private final Allocations allocations;
  private final WorkspaceLimit limit;
  private final RequestBodies bodies;
  private final OfferedTemplates templates;

  public WorkspaceController(WorkspaceWorkflows workflows, UserQuotas quotas, WorkspaceSettings settings,
                             WorkspaceAccess access, Allocations allocations, WorkspaceLimit limit,
                             RequestBodies bodies, OfferedTemplates templates) {
    this.templates = templates;
    this.bodies = bodies;
    this.limit = limit;
    this.allocations = allocations;
    this.workflows = workflows;
    this.quotas = quotas;
    this.settings = settings;
    this.access = access;
  }

  /**
   * {@code template}: absent or blank means the default one; whether it is offered is the templates
   * file's (or settings'), checked by {@link OfferedTemplates#chosen}. {@code name}: Labels' rule,
   * checked with the key ({@link WorkspaceLimit#keyFor}) as for {@code ?name=}.
   */
  @Serdeable
  public record AllocateBody(
      @Nullable @Pattern(regexp = WorkspaceSettings.TEMPLATE_NAME, message = TEMPLATE_RULE) String template,
      @Nullable String name) {
    static final String TEMPLATE_RULE = "must be 1 to 32 of a-z, 0-9 and '-', not starting with '-'";

    static AllocateBody of(RequestFields f) {
      String template = f.text("template");
      return new AllocateBody(template == null || template.isBlank() ? null : template, f.text("name"));
    }
  }

  /** {@code seconds}: absent means the idle timeout; at most the max lifetime, a setting checked in {@link #extend}. */
  @Serdeable
  public record ExtendBody(@Nullable @Positive(message = "must be at least 1") Long seconds) {
    static ExtendBody of(RequestFields f) {
      return new ExtendBody(f.whole("seconds"));
    }
  }

  @Serdeable
  public record Released(String user, @Nullable String name, String message) {
    public static Released of(String key, String message) {
      return new Released(Labels.userOf(key), Labels.nameOf(key), message);
    }
  }

  @Serdeable
  public record LaunchLink(String url, long expiresInSeconds) {}

  @Operation(summary = "Allocate the caller's workspace, or return the one they have")
  @ApiResponse(responseCode = "200", description = "READY")
  @ApiResponse(responseCode = "202", description = "ALLOCATING or PROVISIONING; Location: /api/workspaces/me",
      content = @Content(mediaType = "application/json", schema = @Schema(implementation = WorkspaceJson.class)))
  @ApiResponse(responseCode = "400", description = "a template not offered (the message names the offered ones), or a template or workspace name that breaks its rule")
  @ApiResponse(responseCode = "409", description = "the previous workspace is still being released, or a new "
      + "workspace would pass the per-user limit (error workspace_limit)")
  @ApiResponse(responseCode = "429", description = "over the allocation quota; Retry-After")
  @ApiResponse(responseCode = "503", description = "no capacity, allocation failed or Temporal unavailable; Retry-After")
  @RequestBody(description = "optional; JSON or a form",
      content = @Content(mediaType = "application/json", schema = @Schema(implementation = AllocateBody.class)))
  @Post(consumes = MediaType.ALL)
  public HttpResponse<WorkspaceJson> allocate(Authentication auth, @Body @Nullable byte[] raw,
                                              @Header(HttpHeaders.CONTENT_TYPE) @Nullable String contentType) {
    AllocateBody body = bodies.read(raw, contentType, AllocateBody::of);
    String user = Users.of(auth);
    String key = limit.keyFor(user, body.name(), true);
    String template = templates.chosen(body.template());
    allocations.admit(user, key);
    WorkspaceView view = allocations.allocate(key, template);
    return switch (view.state()) {
      case READY -> HttpResponse.ok(withLaunch(key, view));
      case ALLOCATING, PROVISIONING -> HttpResponse.<WorkspaceJson>status(HttpStatus.ACCEPTED)
          .header(HttpHeaders.LOCATION, location(key))
          .body(WorkspaceJson.of(view));
      case FAILED -> throw ApiException.unavailable("allocation failed: " + view.reason(), WorkspaceWorkflows.RETRY_AFTER);
      case RELEASING, RELEASED -> throw ApiException.conflict("your previous workspace is still being released");
    };
  }

  @Operation(summary = "The caller's live workspaces: the default one and named ones (no launch links)")
  @ApiResponse(responseCode = "200", description = "the workspaces, the default one first")
  @Get
  public List<WorkspaceJson> list(Authentication auth) {
    String user = Users.of(auth);
    List<WorkspaceJson> out = new ArrayList<>();
    for (String key : limit.keysOf(user)) {
      Optional<WorkspaceView> v = workflows.latest(key);
      if (v.isPresent() && v.get().state() != io.berth.workflows.model.WorkspaceState.RELEASED
          && v.get().state() != io.berth.workflows.model.WorkspaceState.FAILED) {
        out.add(WorkspaceJson.of(v.get()));
      }
    }
    return out;
  }

  @Operation(summary = "The caller's workspace (?name= for a named one)")
  @ApiResponse(responseCode = "200", description = "the workspace")
  @ApiResponse(responseCode = "404", description = "no workspace")
  @Get("/me")
  public WorkspaceJson me(Authentication auth, @QueryValue @Nullable String name) {
    String key = key(auth, name);
    return withLaunch(key, workflows.view(key));
  }

  /** A fresh one-time link into the caller's READY workspace; opening it sets the workspace cookie. */
  @Post(value = "/me/launch", consumes = MediaType.ALL)
  public LaunchLink launch(Authentication auth, @QueryValue @Nullable String name) {
    String key = key(auth, name);
    quotas.take(UserQuotas.Kind.LAUNCH, Labels.userOf(key));
    return access.launchUrl(key, null)
        .map(url -> new LaunchLink(url, access.enabled() ? LaunchTickets.TTL.toSeconds() : 0))
        .orElseThrow(() -> {
          WorkspaceView view = workflows.view(key); // 404 when there is none at all
          return ApiException.conflict("the workspace is " + view.state() + ", not READY");
        });
  }

  @Operation(summary = "Release the caller's workspace: teardown starts")
  @ApiResponse(responseCode = "202", description = "release started",
      content = @Content(mediaType = "application/json", schema = @Schema(implementation = Released.class)))
  @ApiResponse(responseCode = "404", description = "no workspace")
  @Delete(value = "/me", consumes = MediaType.ALL)
  public HttpResponse<Released> release(Authentication auth, @QueryValue @Nullable String name) {
    String key = key(auth, name);
    workflows.release(key, "user");
    return HttpResponse.accepted().body(Released.of(key, "release started"));
  }

  @Operation(summary = "Push the idle deadline (bounded by the max lifetime)")
  @ApiResponse(responseCode = "200", description = "the workspace with its new deadline")
  @ApiResponse(responseCode = "400", description = "seconds out of range")
  @ApiResponse(responseCode = "409", description = "the workspace is not READY")
  @RequestBody(description = "optional; JSON or a form",
      content = @Content(mediaType = "application/json", schema = @Schema(implementation = ExtendBody.class)))
  @Post(value = "/me/extend", consumes = MediaType.ALL)
  public HttpResponse<WorkspaceJson> extend(Authentication auth, @Body @Nullable byte[] raw,
                                            @Header(HttpHeaders.CONTENT_TYPE) @Nullable String contentType,
                                            @QueryValue @Nullable String name) {
    ExtendBody body = bodies.read(raw, contentType, ExtendBody::of);
    String key = key(auth, name);
    long max = settings.maxLifetime().toSeconds();
    long seconds = body.seconds() == null ? settings.idleTimeout().toSeconds() : body.seconds();
    if (seconds > max) {
      throw ApiException.badRequest("seconds must be between 1 and " + max);
    }
    quotas.take(UserQuotas.Kind.EXTEND, Labels.userOf(key));
    WorkspaceView view = workflows.extend(key, seconds);
    if (view.state() != io.berth.workflows.model.WorkspaceState.READY) {
      throw ApiException.conflict("the workspace is " + view.state() + ", not READY");
    }
    return HttpResponse.ok(withLaunch(key, view));
  }

  /** The workspace key of the caller's workspace {@code name} (null: their default one). */
  private String key(Authentication auth, @Nullable String name) {
    return limit.keyFor(Users.of(auth), name, false);
  }

  static String location(String key) {
    String name = Labels.nameOf(key);
    return name == null ? ME : ME + "?name=" + name;
  }

  /** READY views carry a launch link (a fresh ticket) so that a dashboard can open the workspace at once. */
  private WorkspaceJson withLaunch(String user, WorkspaceView view) {
    WorkspaceJson json = WorkspaceJson.of(view);
    if (view.state() != io.berth.workflows.model.WorkspaceState.READY) {
      return json;
    }
    return access.launchUrl(user, view.workspaceId()).map(json::withLaunchUrl).orElse(json);
  }
}
