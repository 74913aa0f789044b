package io.berth.api;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.swagger.v3.oas.annotations.Hidden;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** {@code GET /api/openapi.yml}: the OpenAPI document micronaut-openapi wrote at compile time. Public. */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
@Hidden
public class OpenApiController {
  static final String RESOURCE = "META-INF/swagger/berth-1.yml";
  private final String document;

  public OpenApiController() {
    this.document = load();
  }

  @Get(value = "/api/openapi.yml", produces = "application/yaml")
  public HttpResponse<String> openapi() {
    return document == null ? HttpResponse.notFound() : HttpResponse.ok(document);
  }

  private static String load() {
    try (InputStream in = OpenApiController.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
