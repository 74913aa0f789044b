package io.berth.api;

import io.berth.api.workspaces.WorkspaceSettings;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.micronaut.serde.annotation.Serdeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard: one static page and its two assets, loaded once from {@code public/} on the
 * classpath. Anonymous: the page holds no data; everything it shows comes from the API with the
 * user's own token. Only the named files are served, so no path from a request reaches the classpath.
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
public class DashboardController {
  /** The page runs only its own script and style and talks only to this origin. */
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
      + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private record Asset(MediaType type, byte[] bytes) {}

  private final Map<String, Asset> assets = Map.of(
      "index.html", load("index.html", MediaType.TEXT_HTML_TYPE),
      "app.js", load("app.js", new MediaType("text/javascript", Map.of("charset", "utf-8"))),
      "style.css", load("style.css", new MediaType("text/css", Map.of("charset", "utf-8"))));
  private final Config config;

  /** Tokens can be minted locally (./berth token) when the key is the state dir's file, not a given secret. */
  public DashboardController(@Nullable @Value("${berth.jwt.secret:}") String secret, WorkspaceSettings settings) {
    this.config = new Config(secret == null || secret.isBlank(), settings.perUser());
  }

  /** {@code workspacesPerUser} above 1: the page offers named workspaces and lists the caller's. */
  @Serdeable
  public record Config(boolean tokenHint, int workspacesPerUser) {}

  @Get(produces = MediaType.TEXT_HTML)
  public HttpResponse<byte[]> page() {
    return serve("index.html");
  }

  @Get("/dashboard/app.js")
  public HttpResponse<byte[]> script() {
    return serve("app.js");
  }

  @Get("/dashboard/style.css")
  public HttpResponse<byte[]> style() {
    return serve("style.css");
  }

  @Get(value = "/dashboard/config.json", produces = MediaType.APPLICATION_JSON)
  public HttpResponse<Config> config() {
    return secured(HttpResponse.ok(config));
  }

  private HttpResponse<byte[]> serve(String name) {
    Asset a = assets.get(name);
    return secured(HttpResponse.ok(a.bytes()).contentType(a.type()));
  }

  private static <T> MutableHttpResponse<T> secured(MutableHttpResponse<T> r) {
    return r.header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-cache");
  }

  private static Asset load(String name, MediaType type) {
    try (InputStream in = DashboardController.class.getResourceAsStream("/public/" + name)) {
      if (in == null) {
        throw new IllegalStateException("the dashboard file public/" + name + " is missing from the classpath");
      }
      return new Asset(type, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
