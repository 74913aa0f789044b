package io.berth.api;

import io.micronaut.runtime.Micronaut;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityScheme;

/** The API process: REST, JWT, heartbeats. Talks to Temporal and Redis only. */
@OpenAPIDefinition(info = @Info(title = "berth", version = "1",
    description = "Berth: a workspace per user, at its own subdomain, from a pool of warm spares. "
        + "Errors are JSON {\"error\": \"...\", \"message\": \"...\"}."))
@SecurityScheme(name = "bearer", type = SecuritySchemeType.HTTP, scheme = "bearer", bearerFormat = "JWT",
    description = "A user JWT (sub = user id; roles containing admin for operators). /api/heartbeat takes the "
        + "workspace's own token instead; /prometheus also takes the scrape token.")
public final class Application {
  private Application() {}

  public static void main(String[] args) {
    Micronaut.run(Application.class, args);
  }
}
