package io.berth.api.access;

import io.berth.api.activity.TrafficActivity;
import io.berth.api.errors.ApiError;
import io.berth.api.errors.ApiException;
import io.berth.api.workspaces.WorkspaceWorkflows;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What Nginx asks on a workspace's host (see {@code ServerBlock} and {@code WildcardServer}): no
 * user JWT here, the checks are {@link WorkspaceAccess}'s own. {@code /auth} is the
 * {@code auth_request} subrequest (with the original Host and Cookie); {@code /launch} redeems a
 * one-time launch ticket and sets the workspace cookie on that host; {@code /route} is dynamic
 * routing's readiness check.
 */
@Controller("/api/gateway")
// Nginx passes the browser's Accept along (an image's, a script's): a route that produced JSON
// only matched none of them, and security then answered 401 in the controller's place.
@Produces({MediaType.APPLICATION_JSON, MediaType.TEXT_HTML, MediaType.ALL})
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class GatewayController {
  /** Sent by Nginx's wildcard server: answer from the route record (see {@code WildcardServer}). */
  static final String ROUTING_HEADER = "X-Berth-Routing";
  static final String UPSTREAM_HEADER = "X-Berth-Upstream";
  static final String ROUTE_HEADER = "X-Berth-Route";
  /** The original request's method: Nginx sends the auth subrequest as GET. */
  static final String METHOD_HEADER = "X-Berth-Method";
  /** The sign-in page (BERTH_DASHBOARD_URL), set by Nginx on the gone request. */
  static final String LOGIN_HEADER = "X-Berth-Login";
  static final String FETCH_MODE_HEADER = "Sec-Fetch-Mode";
  private static final Pattern PLAIN_URL = Pattern.compile("https?://[A-Za-z0-9.:\\[\\]-]+(/[A-Za-z0-9._~/-]*)?");
  private final WorkspaceAccess access;
  private final TrafficActivity traffic;
  private final WorkspaceWorkflows workflows;

  public GatewayController(WorkspaceAccess access, TrafficActivity traffic, WorkspaceWorkflows workflows) {
    this.access = access;
    this.traffic = traffic;
    this.workflows = workflows;
  }

  /**
   * 204 (with {@value #UPSTREAM_HEADER} and {@value #ROUTE_HEADER} when the route record was
   * read), 401 (no valid cookie) or 403 (no route record: no workspace at this host).
   */
  @Get("/auth")
  public HttpResponse<?> auth(@Header(HttpHeaders.HOST) @Nullable String host,
                              @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                              @Header(ROUTING_HEADER) @Nullable String routing,
                              @Header(METHOD_HEADER) @Nullable String method,
                              @Header(FETCH_MODE_HEADER) @Nullable String fetchMode) {
    WorkspaceAccess.Verdict v = access.check(host, cookie, "dynamic".equalsIgnoreCase(routing));
    if (v instanceof WorkspaceAccess.Verdict.Pass pass) {
      String label = pass.route() != null ? pass.route().label() : access.labelOf(host);
      if (pass.key() != null && label != null) {
        traffic.passed(pass.key(), label, method, fetchMode);
      }
      MutableHttpResponse<Void> r = HttpResponse.noContent();
      if (pass.route() != null) {
        r.header(UPSTREAM_HEADER, pass.route().upstream()).header(ROUTE_HEADER, pass.route().label());
      }
      return r;
    }
    if (v instanceof WorkspaceAccess.Verdict.Denied denied) {
      MutableHttpResponse<ApiError> r = HttpResponse.<ApiError>status(HttpStatus.UNAUTHORIZED)
          .contentType(MediaType.APPLICATION_JSON_TYPE)
          .body(new ApiError("unauthorized", "no valid workspace cookie for this host"));
      if (denied.route() != null) {
        r.header(ROUTE_HEADER, denied.route().label());
      }
      return r;
    }
    throw ApiException.forbidden("no workspace at this address");
  }

  /**
   * A request for a host without a route (Nginx's {@code @berth_gone}). The owner's browser (a
   * cookie minted for this host) gets a page that says what became of the workspace; a browser
   * without one is sent to sign in; any other client gets the JSON 404.
   */
  @Get("/gone")
  public HttpResponse<?> gone(@Header(HttpHeaders.HOST) @Nullable String host,
                              @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                              @Header(HttpHeaders.ACCEPT) @Nullable String accept,
                              @Header(LOGIN_HEADER) @Nullable String login) {
    String label = access.labelOf(host);
    boolean browser = accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("text/html");
    Optional<String> owner = access.cookieOwner(host, cookie);
    String dashboard = dashboardUrl(login);
    if (owner.isEmpty()) {
      if (browser && label != null && dashboard != null) {
        return HttpResponse.status(HttpStatus.FOUND).header(HttpHeaders.LOCATION, dashboard + "?ws=" + label)
            .header(HttpHeaders.CACHE_CONTROL, "no-store");
      }
      throw ApiException.notFound("no workspace at this address");
    }
    GonePage.Story story = GonePage.story(workflows.latest(owner.get()));
    if (!browser) {
      throw ApiException.notFound(GonePage.sentence(story));
    }
    // The owner's browser gets the wake page: a new workspace, the steps, then the workspace (WakeController).
    String nonce = WakePage.nonce();
    return HttpResponse.status(HttpStatus.NOT_FOUND).contentType(MediaType.TEXT_HTML_TYPE)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .header("Content-Security-Policy", WakePage.contentSecurityPolicy(nonce))
        .body(WakePage.html(story, dashboard, nonce));
  }

  /** Nginx's sign-in URL, used only when it is a plain http(s) URL (it reaches a Location header and a page). */
  @Nullable
  private static String dashboardUrl(@Nullable String login) {
    return login != null && PLAIN_URL.matcher(login).matches() ? login : null;
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
