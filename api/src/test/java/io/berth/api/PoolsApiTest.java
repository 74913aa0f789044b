package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Templates from a templates file, each with its own pool: a caller chooses one (JSON or a form),
 * the run signals that template's controller, an unknown one is a 400 naming the offered ones,
 * {@code /api/templates} lists them and {@code /api/status} reports every pool.
 */
@MicronautTest
class PoolsApiTest extends ApiTestBase {
  /** Three templates: {@code browser}'s controller never runs here (a pool without status). */
  static final String FILE = """
      default: demo
      templates:
        demo: {spares: 1, maxHosts: 4}
        shell:
          kind: command
          command: "python3 -m http.server {port} --bind 127.0.0.1"
          spares: 2
          maxHosts: 6
        browser: {kind: chromium, spares: 0}
      """;

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = stack.apiProperties();
    p.remove("berth.workspace.templates");
    p.put("berth.workspace.templates-file", templatesFile().toString());
    return p;
  }

  private static Path templatesFile() {
    try {
      Path dir = Files.createTempDirectory("berth-templates");
      return Files.writeString(dir.resolve("templates.yml"), FILE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @BeforeAll
  void shellController() {
    stack.controller("capacity-shell");
  }

  @AfterAll
  void forgetSpares() {
    stack.redis.del("berth:pool:shell");
  }

  @Test
  void eachTemplateIsAllocatedWithItsOwnController() {
    String shell = user("shell");
    Http.Answer a = http.post("/api/workspaces", token(shell), "{\"template\":\"shell\"}");
    assertEquals(200, a.status(), a.body());
    assertEquals("shell", a.json().path("template").asText());
    assertEquals("capacity-shell", stack.startedWith(shell).capacityId());

    String plain = user("plain");
    Http.Answer d = http.post("/api/workspaces", token(plain), null);
    assertEquals(200, d.status(), d.body());
    assertEquals("demo", d.json().path("template").asText(), "the file's default");
    assertEquals("capacity", stack.startedWith(plain).capacityId());
  }

  @Test
  void aFormChoosesTheTemplateToo() {
    String u = user("form");
    Http.Answer a = http.postForm("/api/workspaces", token(u), "template=shell");
    assertEquals(200, a.status(), a.body());
    assertEquals("shell", a.json().path("template").asText());
    assertEquals("capacity-shell", stack.startedWith(u).capacityId());
  }

  @Test
  void anUnknownTemplateIs400NamingTheOfferedOnes() {
    String t = token(user("unknown"));
    for (Http.Answer a : List.of(http.post("/api/workspaces", t, "{\"template\":\"code-server\"}"),
        http.postForm("/api/workspaces", t, "template=code-server"))) {
      assertEquals(400, a.status(), a.body());
      assertEquals("bad_request", a.json().path("error").asText());
      assertEquals("unknown template 'code-server'; offered: demo, shell, browser", a.json().path("message").asText());
    }
  }

  @Test
  void templatesAreListedWithKindAndSparesReady() {
    stack.redis.sadd("berth:pool:shell", "host-9/0", "host-9/1");
    Http.Answer a = http.get("/api/templates", token(user("lister")));
    assertEquals(200, a.status(), a.body());
    List<String> rows = new ArrayList<>();
    for (JsonNode t : a.json()) {
      rows.add(t.path("name").asText() + " " + t.path("kind").asText() + " " + t.path("defaultTemplate").asBoolean()
          + " " + t.path("sparesReady").asLong());
    }
    assertEquals(List.of("demo demo true 0", "shell command false 2", "browser chromium false 0"), rows);
    assertEquals(401, http.get("/api/templates", null).status());
  }

  @Test
  void statusReportsEveryPoolAndKeepsTheDefaultOnTop() {
    Http.Answer a = http.get("/api/status", admin(user("ops")));
    assertEquals(200, a.status(), a.body());
    JsonNode s = a.json();
    assertEquals(1, s.path("sparesTarget").asInt(), "the default pool's fields, as before");
    assertEquals("host-1", s.path("hosts").path(0).path("hostId").asText());
    assertEquals("demo", s.path("template").asText());

    JsonNode pools = s.path("pools");
    assertEquals(3, pools.size(), s.toString());
    JsonNode demo = pools.path(0);
    assertEquals("demo", demo.path("template").asText());
    assertEquals("capacity", demo.path("controllerId").asText());
    assertEquals(1, demo.path("hosts").size());

    JsonNode shell = pools.path(1);
    assertEquals("shell", shell.path("template").asText());
    assertEquals("command", shell.path("kind").asText());
    assertEquals("capacity-shell", shell.path("controllerId").asText());
    assertEquals(2, shell.path("sparesTarget").asInt());
    assertEquals("base 2", shell.path("sparesRule").asText());
    assertEquals("spares below target (base 2)", shell.path("decisions").path(0).path("reason").asText());
    assertTrue(shell.path("error").isMissingNode() || shell.path("error").isNull(), shell.toString());

    JsonNode browser = pools.path(2);
    assertEquals("browser", browser.path("template").asText());
    assertEquals("capacity-browser", browser.path("controllerId").asText());
    assertTrue(browser.path("error").asText().contains("not reachable"), browser.toString());
    assertFalse(browser.path("sparesTarget").isInt(), browser.toString());
  }

  @Test
  void theDashboardOffersAChooserFedByTheTemplatesRoute() {
    String page = http.get("/", null).body();
    assertTrue(page.contains("<select id=\"ws-template\">"), "the chooser is on the page");
    assertTrue(page.contains("id=\"ws-template-row\" class=\"chooser\" hidden"), "hidden until more than one is listed");
    String js = http.get("/dashboard/app.js", null).body();
    assertTrue(js.contains("'/api/templates'"), "the page asks which templates are offered");
  }
}
