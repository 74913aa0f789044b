package io.berth.api;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

/**
 * What Nginx asks on a workspace's host (see {@code ServerBlock}): no user JWT here, the checks
 * are {@link WorkspaceAccess}'s own. {@code /auth} is the {@code auth_request} subrequest (204
 * or 401, with the original Host and Cookie); {@code /launch} redeems a one-time launch ticket
 * and sets the workspace cookie on that host.
 */
@Controller("/api/gateway")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class GatewayController {
  private final WorkspaceAccess access;

  public GatewayController(WorkspaceAccess access) {
    this.access = access;
  }

  @Get("/auth")
  public HttpResponse<Void> auth(@Header(HttpHeaders.HOST) @Nullable String host,
                                 @Header(HttpHeaders.COOKIE) @Nullable String cookie) {
    if (!access.admits(host, cookie)) {
      throw ApiException.unauthorized("no valid workspace cookie for this host");
    }
    return HttpResponse.noContent();
  }

  @Get("/launch")
  public HttpResponse<Void> launch(@QueryValue("t") @Nullable String ticket,
                                   @Header(HttpHeaders.HOST) @Nullable String host,
                                   @Header(HttpHeaders.COOKIE) @Nullable String cookie) {
    WorkspaceAccess.Launch result = access.launch(host, ticket, cookie);
    if (result instanceof WorkspaceAccess.Launch.Refused) {
      throw ApiException.forbidden("this launch link is expired, already used or not for this workspace; "
          + "open the workspace again from the dashboard");
    }
    MutableHttpResponse<Void> r = HttpResponse.<Void>status(HttpStatus.FOUND)
        .header(HttpHeaders.LOCATION, "/")
        .header(HttpHeaders.CACHE_CONTROL, "no-store");
    if (result instanceof WorkspaceAccess.Launch.Granted g) {
      r.header(HttpHeaders.SET_COOKIE, g.setCookie());
    }
    return r;
  }
}
