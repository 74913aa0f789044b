package io.berth.api.access;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

/**
 * The wake page's calls on a workspace's host ({@code /.berth/wake...}, proxied by Nginx with the
 * gateway token): {@code POST /wake} starts the owner's workspace, {@code GET /wake/status}
 * follows it, {@code POST /wake/enter} sets the cookie of the READY workspace. Each asks
 * {@link WakeRequests#owner} first; only the POSTs start or grant anything.
 */
@Controller("/api/gateway/wake")
@Produces({MediaType.APPLICATION_JSON, MediaType.ALL})
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class WakeController {
  static final String FETCH_SITE_HEADER = "Sec-Fetch-Site";
  private final WakeRequests requests;
  private final Wakes wakes;

  public WakeController(WakeRequests requests, Wakes wakes) {
    this.requests = requests;
    this.wakes = wakes;
  }

  /** 200 READY (cookie set: go to {@code /}), 202 on its way, 429/503 with Retry-After, 401/403 refused. */
  @Post(consumes = MediaType.ALL)
  public HttpResponse<Wakes.Status> wake(@Header(HttpHeaders.HOST) @Nullable String host,
                                         @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                                         @Header(HttpHeaders.ORIGIN) @Nullable String origin,
                                         @Header(FETCH_SITE_HEADER) @Nullable String fetchSite) {
    Wakes.Answer a = wakes.wake(requests.owner(host, cookie, origin, fetchSite));
    return reply(a, a.setCookie() != null ? HttpStatus.OK : HttpStatus.ACCEPTED);
  }

  @Get("/status")
  public HttpResponse<Wakes.Status> status(@Header(HttpHeaders.HOST) @Nullable String host,
                                           @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                                           @Header(FETCH_SITE_HEADER) @Nullable String fetchSite) {
    return reply(new Wakes.Answer(wakes.status(requests.reader(host, cookie, fetchSite)), null), HttpStatus.OK);
  }

  @Post(value = "/enter", consumes = MediaType.ALL)
  public HttpResponse<Wakes.Status> enter(@Header(HttpHeaders.HOST) @Nullable String host,
                                          @Header(HttpHeaders.COOKIE) @Nullable String cookie,
                                          @Header(HttpHeaders.ORIGIN) @Nullable String origin,
                                          @Header(FETCH_SITE_HEADER) @Nullable String fetchSite) {
    return reply(wakes.enter(requests.owner(host, cookie, origin, fetchSite)), HttpStatus.OK);
  }

  private static HttpResponse<Wakes.Status> reply(Wakes.Answer a, HttpStatus status) {
    MutableHttpResponse<Wakes.Status> r = HttpResponse.<Wakes.Status>status(status)
        .contentType(MediaType.APPLICATION_JSON_TYPE)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(a.status());
    if (a.setCookie() != null) {
      r.header(HttpHeaders.SET_COOKIE, a.setCookie());
    }
    return r;
  }
}
