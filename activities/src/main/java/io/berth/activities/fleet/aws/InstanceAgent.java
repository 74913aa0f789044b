package io.berth.activities.fleet.aws;

import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The Berth agent on each instance, reached on the instance's address at
 * {@code http://<address>:<agentPort>/berth/credentials}: PUT {@code {"slot":0,"user":..,"token":..}}
 * hands the workspace its heartbeat token, DELETE {@code ?slot=0} takes it back. Tokens go here and
 * not into tags because anyone with ec2:DescribeInstances can read tags. The agent must listen on
 * the private network only, reachable from the worker's security group alone.
 */
final class InstanceAgent {
  static final String UNAVAILABLE = "AgentUnavailable";
  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  /** What the agent answered: a status code, or -1 when it could not be reached. */
  record Answer(int status, String problem) {
    boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  private final int port;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  InstanceAgent(int port) {
    this.port = port;
  }

  Answer put(String address, int slot, String user, String token) {
    String body = "{\"slot\":" + slot + ",\"user\":" + json(user) + ",\"token\":" + json(token) + "}";
    return send(HttpRequest.newBuilder(uri(address, ""))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  Answer delete(String address, int slot) {
    return send(HttpRequest.newBuilder(uri(address, "?slot=" + slot)).DELETE());
  }

  private Answer send(HttpRequest.Builder request) {
    try {
      HttpResponse<Void> r = http.send(request.timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.discarding());
      return new Answer(r.statusCode(), "HTTP " + r.statusCode());
    } catch (IOException e) {
      return new Answer(-1, e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted talking to the agent", UNAVAILABLE);
    }
  }

  /** The address comes from EC2, but it still reaches a URL: only a dotted IPv4 literal is accepted. */
  private URI uri(String address, String query) {
    if (address == null || !IPV4.matcher(address).matches()) {
      throw ApplicationFailure.newNonRetryableFailure("slot address is not an IPv4 address", "InvalidInput");
    }
    return URI.create("http://" + address + ":" + port + "/berth/credentials" + query);
  }

  static String json(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
