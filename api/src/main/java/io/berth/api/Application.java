package io.berth.api;

import io.micronaut.runtime.Micronaut;

/** The API process: REST, JWT, heartbeats. Talks to Temporal and Redis only. */
public final class Application {
  private Application() {}

  public static void main(String[] args) {
    Micronaut.run(Application.class, args);
  }
}
