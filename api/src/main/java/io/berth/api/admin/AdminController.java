package io.berth.api.admin;

import io.berth.api.access.TokenMinter;
import io.berth.api.access.Users;
import io.berth.api.workspaces.HistoryEvents;
import io.berth.api.workspaces.WorkspaceController;
import io.berth.api.workspaces.WorkspaceLimit;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import java.util.List;

/** Operators only: the fleet, every workspace, force release, workflow history. */
@Controller("/api")
@Secured(TokenMinter.ADMIN)
@ExecuteOn(TaskExecutors.BLOCKING)
public class AdminController {
  private final FleetStatus fleet;
  private final Sessions sessions;
  private final WorkspaceWorkflows workflows;
  private final WorkspaceLimit limit;

  public AdminController(FleetStatus fleet, Sessions sessions, WorkspaceWorkflows workflows, WorkspaceLimit limit) {
    this.limit = limit;
    this.fleet = fleet;
    this.sessions = sessions;
    this.workflows = workflows;
  }

  @Operation(summary = "The fleet: hosts, slots, spares, active, desired, min/max, last scaling decisions; "
      + "the default template's pool at the top level, every template's pool in pools")
  @ApiResponse(responseCode = "200", description = "the capacity controllers' status")
  @ApiResponse(responseCode = "503", description = "the default template's capacity controller is not reachable")
  @Get("/status")
  public FleetJson status() {
    return fleet.status();
  }

  @Operation(summary = "Every workspace, from the Redis read model")
  @ApiResponse(responseCode = "200", description = "the workspaces")
  @Get("/admin/workspaces")
  public List<Sessions.Entry> workspaces() {
    return sessions.list();
  }

  @Operation(summary = "Force release a user's workspace (?name= for a named one)")
  @ApiResponse(responseCode = "202", description = "release started", content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = WorkspaceController.Released.class)))
  @ApiResponse(responseCode = "404", description = "the user has no workspace")
  @Delete(value = "/admin/workspaces/{user}", consumes = MediaType.ALL)
  public HttpResponse<WorkspaceController.Released> release(String user, @QueryValue @Nullable String name) {
    String key = limit.keyFor(Users.checked(user), name, false);
    workflows.release(key, "admin");
    return HttpResponse.accepted().body(WorkspaceController.Released.of(key, "release started"));
  }

  @Operation(summary = "The workspace workflow's events (activities, compensations, signals, timers), no payloads")
  @ApiResponse(responseCode = "200", description = "the events")
  @ApiResponse(responseCode = "404", description = "the user has no workflow")
  @Get("/admin/workspaces/{user}/history")
  public List<HistoryEvents.Event> history(String user, @QueryValue @Nullable String name) {
    return workflows.history(limit.keyFor(Users.checked(user), name, false));
  }
}
