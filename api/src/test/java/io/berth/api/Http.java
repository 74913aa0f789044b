package io.berth.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** Plain JDK HTTP against the running API: every status is an answer, not an exception. */
final class Http {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI base;

  Http(URI base) {
    this.base = base;
  }

  record Answer(int status, HttpResponse<String> raw) {
    JsonNode json() {
      try {
        return JSON.readTree(raw.body());
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + raw.body(), e);
      }
    }

    Optional<String> header(String name) {
      return raw.headers().firstValue(name);
    }

    String body() {
      return raw.body();
    }
  }

  Answer get(String path, String bearer) {
    return send(builder(path, bearer).GET());
  }

  Answer delete(String path, String bearer) {
    return send(builder(path, bearer).DELETE());
  }

  Answer post(String path, String bearer, String json) {
    HttpRequest.Builder b = builder(path, bearer);
    if (json == null) {
      return send(b.POST(HttpRequest.BodyPublishers.noBody()));
    }
    return send(b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** A form body ({@code application/x-www-form-urlencoded}), as an HTML form posts it. */
  Answer postForm(String path, String bearer, String form) {
    return send(builder(path, bearer).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form)));
  }

  /** Raw Authorization header, for the heartbeat's own token scheme. */
  Answer postWithAuthorization(String path, String authorization) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return send(b.POST(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpRequest.Builder builder(String path, String bearer) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return b;
  }

  private Answer send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
