package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.web.router.Router;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The OpenAPI document is public and lists exactly the routes the API's controllers serve. */
@MicronautTest
class OpenApiTest extends ApiTestBase {
  @Inject
  Router router;

  @SuppressWarnings("unchecked")
  private Set<String> documented(String yaml) {
    Map<String, Object> doc = new Yaml().load(yaml);
    assertTrue(String.valueOf(doc.get("openapi")).startsWith("3."), yaml);
    Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
    Set<String> routes = new TreeSet<>();
    paths.forEach((path, ops) -> ops.keySet().forEach(method -> routes.add(method.toUpperCase() + " " + path)));
    return routes;
  }

  /** Every route of a Berth controller, but the document's own (and the HEAD that Micronaut adds to each GET). */
  private Set<String> served() {
    return router.uriRoutes()
        .filter(r -> !r.getHttpMethodName().equals("HEAD"))
        .filter(r -> r.getTargetMethod().getDeclaringType().getPackageName().startsWith("io.berth.api"))
        .filter(r -> r.getTargetMethod().getDeclaringType() != OpenApiController.class)
        .map(r -> r.getHttpMethodName() + " " + r.getUriMatchTemplate().toPathString())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void theDocumentIsPublicAndMatchesTheRoutes() {
    Http.Answer a = http.get("/api/openapi.yml", null);
    assertEquals(200, a.status(), a.body());
    Set<String> served = served();
    assertTrue(served.contains("POST /api/workspaces") && served.contains("GET /prometheus"), served.toString());
    assertEquals(served, documented(a.body()));
  }
}
