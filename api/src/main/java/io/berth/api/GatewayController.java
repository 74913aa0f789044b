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
 * What Nginx asks on a workspace's host (see {@code ServerBlock} and {@code WildcardServer}): no
 * user JWT here, the checks are {@link WorkspaceAccess}'s own. {@code /auth} is the
 * {@code auth_request} subrequest (with the original Host and Cookie); {@code /launch} redeems a
 * one-time launch ticket and sets the workspace cookie on that host; {@code /route} is dynamic
 * routing's readiness check.
 */
@Controller("/api/gateway")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class GatewayController {
  /** Sent by Nginx's wildcard server: answer from the route record (see {@code WildcardServer}). */
  static final String ROUTING_HEADER = "X-Berth-Routing";
  static final String UPSTREAM_HEADER = "X-Berth-Upstream";
  static final String ROUTE_HEADER = "X-Berth-Route";
  private final WorkspaceAccess access;

  public GatewayController(WorkspaceAccess access) {
    this.access = access;
  }

  /**
   * 204 (with {@value #UPSTREAM_HEADER} and {@value #ROUTE_HEADER} when the route record was
   * read), 401 (no valid cookie) or 403 (no route record: no workspace at this host).
   */
  @Get("/auth")
  public HttpResponse<?> auth(@Header(HttpHeaders.HOST) @Nullable String host,
                              @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                              @Header(ROUTING_HEADER) @Nullable String routing) {
    WorkspaceAccess.Verdict v = access.check(host, cookie, "dynamic".equalsIgnoreCase(routing));
    if (v instanceof WorkspaceAccess.Verdict.Pass pass) {
      MutableHttpResponse<Void> r = HttpResponse.noContent();
      if (pass.route() != null) {
        r.header(UPSTREAM_HEADER, pass.route().upstream()).header(ROUTE_HEADER, pass.route().label());
      }
      return r;
    }
    if (v instanceof WorkspaceAccess.Verdict.Denied denied) {
      MutableHttpResponse<ApiError> r = HttpResponse.<ApiError>status(HttpStatus.UNAUTHORIZED)
          .body(new ApiError("unauthorized", "no valid workspace cookie for this host"));
      if (denied.route() != null) {
        r.header(ROUTE_HEADER, denied.route().label());
      }
      return r;
    }
    throw ApiException.forbidden("no workspace at this address");
  }

  /** Dynamic routing's {@code /.berth/route}: 204 with {@value #ROUTE_HEADER} while the host has a route record. */
  @Get("/route")
  public HttpResponse<Void> route(@Header(HttpHeaders.HOST) @Nullable String host) {
    String label = access.routedLabel(host).orElseThrow(() -> ApiException.notFound("no workspace at this address"));
    return HttpResponse.<Void>noContent().header(ROUTE_HEADER, label);
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
