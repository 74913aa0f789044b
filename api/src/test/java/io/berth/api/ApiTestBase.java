package io.berth.api;

import io.berth.api.access.TokenMinter;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** The API on a random port against the shared {@link TestStack}; subclasses add {@code @MicronautTest}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ApiTestBase implements TestPropertyProvider {
  final TestStack stack = TestStack.get();
  @Inject
  EmbeddedServer server;
  Http http;
  String secret;

  @Override
  public Map<String, String> getProperties() {
    return stack.apiProperties();
  }

  @BeforeAll
  void connect() {
    http = new Http(server.getURI());
    secret = stack.secret();
  }

  /** Users are unique per test: workflows and Redis outlive a test class. */
  static String user(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Allocates the user's workspace (the fake workflow answers READY at once) and returns its id. */
  String allocated(String user) {
    Http.Answer a = http.post("/api/workspaces", token(user), null);
    org.junit.jupiter.api.Assertions.assertEquals(200, a.status(), a.body());
    return a.json().path("workspaceId").asText();
  }

  String token(String user) {
    return TokenMinter.mint(secret, user, false, Duration.ofMinutes(10));
  }

  String admin(String user) {
    return TokenMinter.mint(secret, user, true, Duration.ofMinutes(10));
  }
}
