package io.berth.api.workspaces;

import io.berth.api.access.Users;
import io.berth.api.errors.ApiException;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;
import org.reactivestreams.Publisher;

/** {@code GET /api/workspaces/me/events}: the caller's workspace coming up (or going away), live. */
@Controller("/api/workspaces")
@Secured(SecurityRule.IS_AUTHENTICATED)
public class WorkspaceEventsController {
  private final WorkspaceWorkflows workflows;
  private final ProgressStream stream;
  private final WorkspaceLimit limit;

  public WorkspaceEventsController(WorkspaceWorkflows workflows, ProgressStream stream, WorkspaceLimit limit) {
    this.limit = limit;
    this.workflows = workflows;
    this.stream = stream;
  }

  /**
   * 404 when there is nothing to follow (no run, or the last one is released). A FAILED run is
   * still shown once: a client that got 202 and then opens the stream learns why it failed.
   */
  @Get(value = "/me/events", produces = MediaType.TEXT_EVENT_STREAM)
  @ExecuteOn(TaskExecutors.BLOCKING)
  public Publisher<Event<String>> events(Authentication auth, @QueryValue @Nullable String name) {
    String key = limit.keyFor(Users.of(auth), name, false);
    WorkspaceView first = workflows.latest(key)
        .filter(v -> v.state() != WorkspaceState.RELEASED)
        .orElseThrow(() -> ApiException.notFound("you have no workspace"));
    return stream.follow(key, first);
  }
}
