package io.berth.api;

import io.berth.workflows.model.CapacityStatus;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
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

  public AdminController(FleetStatus fleet, Sessions sessions, WorkspaceWorkflows workflows) {
    this.fleet = fleet;
    this.sessions = sessions;
    this.workflows = workflows;
  }

  @Get("/status")
  public CapacityStatus status() {
    return fleet.status();
  }

  @Get("/admin/workspaces")
  public List<Sessions.Entry> workspaces() {
    return sessions.list();
  }

  @Delete("/admin/workspaces/{user}")
  public HttpResponse<WorkspaceController.Released> release(String user) {
    String u = Users.checked(user);
    workflows.release(u, "admin");
    return HttpResponse.accepted().body(new WorkspaceController.Released(u, "release started"));
  }

  @Get("/admin/workspaces/{user}/history")
  public List<HistoryEvents.Event> history(String user) {
    return workflows.history(Users.checked(user));
  }
}
