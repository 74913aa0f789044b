package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import org.junit.jupiter.api.Test;

/** The dashboard's files: served to anyone, with a strict CSP; nothing else under /dashboard. */
@MicronautTest
class DashboardApiTest extends ApiTestBase {

  @Test
  void thePageAndItsAssetsAreServedWithoutAToken() {
    Http.Answer page = http.get("/", null);
    assertEquals(200, page.status(), page.body());
    assertTrue(page.header("Content-Type").orElseThrow().startsWith("text/html"));
    assertTrue(page.body().contains("<title>Berth</title>"));
    assertEquals(DashboardController.CSP, page.header("Content-Security-Policy").orElseThrow());
    assertEquals("nosniff", page.header("X-Content-Type-Options").orElseThrow());

    Http.Answer js = http.get("/dashboard/app.js", null);
    assertEquals(200, js.status());
    assertTrue(js.header("Content-Type").orElseThrow().startsWith("text/javascript"));
    assertTrue(js.body().contains("/api/workspaces/me/events"));
    Http.Answer css = http.get("/dashboard/style.css", null);
    assertEquals(200, css.status());
    assertTrue(css.header("Content-Type").orElseThrow().startsWith("text/css"));
  }

  @Test
  void theScriptNeverWritesMarkup() {
    String js = http.get("/dashboard/app.js", null).body();
    for (String sink : new String[] {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
      assertFalse(js.contains(sink), "app.js uses " + sink);
    }
  }

  @Test
  void theTokenHintShowsWhenTokensComeFromTheStateDir() {
    // the test API reads its key from the state dir, as ./berth up does
    Http.Answer config = http.get("/dashboard/config.json", null);
    assertEquals(200, config.status());
    assertTrue(config.json().path("tokenHint").asBoolean(), config.body());
  }

  @Test
  void nothingElseIsServedAndTheApiStaysSecured() {
    for (String path : new String[] {"/dashboard/../application.yml", "/dashboard/index.html", "/public/app.js",
        "/dashboard/logback.xml"}) {
      Http.Answer a = http.get(path, null);
      assertTrue(a.status() == 404 || a.status() == 401, path + " -> " + a.status());
      assertFalse(a.body().contains("micronaut:"), path);
    }
    assertEquals(401, http.get("/api/workspaces/me", null).status());
  }
}
