package io.berth.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The instance metadata service, IMDSv2 only: a session token from {@code PUT /latest/api/token},
 * sent with every read, renewed before it expires or when the service refuses it.
 */
final class Imds {
  private static final int TOKEN_TTL_SECONDS = 21600;

  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private String token;
  private long tokenRenewAt;

  Imds(URI base) {
    this.base = base;
  }

  /** A metadata path under {@code /latest/meta-data/}; empty when the service answers 404. */
  synchronized Optional<String> get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = read(path);
    if (r.statusCode() == 401) {
      token = null;
      r = read(path);
    }
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    if (r.statusCode() != 200) {
      throw new IOException("metadata service answered " + r.statusCode() + " for " + path);
    }
    return Optional.of(r.body().trim());
  }

  /** A value the instance always has (instance id, address, region), with a few attempts for a slow boot. */
  String require(String path) throws Exception {
    try {
      return Retry.call("reading metadata " + path, 5, Duration.ofSeconds(1),
          () -> get(path).orElseThrow(() -> new IOException("the metadata service has no " + path)));
    } catch (IOException e) {
      throw new IOException("no " + path + " from the metadata service at " + base + " (" + Retry.describe(e)
          + "); the agent runs on an EC2 instance with the metadata endpoint enabled (BERTH_AGENT_METADATA_URL)", e);
    }
  }

  /** The instance's tag keys, or empty when metadata tags are not enabled on the instance. */
  Optional<List<String>> tagKeys() throws IOException, InterruptedException {
    return get("tags/instance").map(s -> Arrays.stream(s.split("\n")).map(String::trim).filter(k -> !k.isEmpty()).toList());
  }

  private HttpResponse<String> read(String path) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/latest/meta-data/" + path))
        .header("X-aws-ec2-metadata-token", sessionToken()).timeout(Duration.ofSeconds(5)).GET().build();
    return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private String sessionToken() throws IOException, InterruptedException {
    if (token == null || System.currentTimeMillis() >= tokenRenewAt) {
      HttpRequest request = HttpRequest.newBuilder(base.resolve("/latest/api/token"))
          .header("X-aws-ec2-metadata-token-ttl-seconds", String.valueOf(TOKEN_TTL_SECONDS))
          .timeout(Duration.ofSeconds(5)).PUT(HttpRequest.BodyPublishers.noBody()).build();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (r.statusCode() != 200) {
        throw new IOException("metadata service refused a session token (" + r.statusCode()
            + "); is the metadata endpoint enabled and the hop limit high enough?");
      }
      token = r.body().trim();
      // Renewed well before the TTL: a token that expires mid-request costs a refused read.
      tokenRenewAt = System.currentTimeMillis() + TOKEN_TTL_SECONDS * 1000L / 2;
    }
    return token;
  }
}
