package io.berth.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The instance metadata service of one {@link FakeAws} instance, IMDSv2 only, on 127.0.0.1:
 * {@code PUT /latest/api/token} hands out a session token, every read must carry it (401
 * otherwise). It serves {@code instance-id}, {@code local-ipv4}, {@code placement/region}, the
 * instance role's credentials ({@code iam/security-credentials/}) and the instance's tags as metadata tags ({@code tags/instance}, {@code tags/instance/<key>}), read
 * live from the fake, so a tag the worker writes with CreateTags shows at once.
 */
public final class FakeImds implements AutoCloseable {
  private static final String META = "/latest/meta-data/";
  /** The instance profile's role; its credentials are the fake's dummy ones (FakeAws checks no signature). */
  public static final String ROLE = "berth-workspace";

  private final HttpServer server;
  private final FakeAws aws;
  private final String instanceId;
  private final Set<String> tokens = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger credentialReads = new AtomicInteger();
  private volatile boolean tagsEnabled = true;

  private FakeImds(FakeAws aws, String instanceId) throws IOException {
    this.aws = aws;
    this.instanceId = instanceId;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public static FakeImds start(FakeAws aws, String instanceId) {
    try {
      return new FakeImds(aws, instanceId);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Reads refused for a missing or unknown session token (an IMDSv1-style read counts here). */
  public int refused() {
    return refused.get();
  }

  /** How often the role's credentials were read (the SDK's instance profile provider). */
  public int credentialReads() {
    return credentialReads.get();
  }

  /** Off: {@code tags/instance} answers 404, as with InstanceMetadataTags=disabled. */
  public FakeImds tagsEnabled(boolean enabled) {
    tagsEnabled = enabled;
    return this;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getPath();
      if ("PUT".equals(ex.getRequestMethod()) && "/latest/api/token".equals(path)) {
        String token = UUID.randomUUID().toString();
        tokens.add(token);
        reply(ex, 200, token);
      } else if (!tokens.contains(String.valueOf(ex.getRequestHeaders().getFirst("X-aws-ec2-metadata-token")))) {
        refused.incrementAndGet();
        reply(ex, 401, "");
      } else if ("GET".equals(ex.getRequestMethod()) && path.startsWith(META)) {
        String value = metadata(path.substring(META.length()));
        reply(ex, value == null ? 404 : 200, value == null ? "" : value);
      } else {
        reply(ex, 404, "");
      }
    }
  }

  private String metadata(String path) {
    FakeAws.Instance i = aws.instance(instanceId);
    if (i == null) {
      return null;
    }
    Map<String, String> tags = i.tags();
    return switch (path) {
      case "instance-id" -> i.id();
      case "local-ipv4" -> i.privateAddress();
      case "public-ipv4" -> i.publicAddress();
      case "placement/region" -> "us-east-1";
      case "iam/security-credentials/" -> ROLE;
      case "iam/security-credentials/" + ROLE -> roleCredentials();
      case "tags/instance" -> tagsEnabled ? tags.keySet().stream().sorted().collect(Collectors.joining("\n")) : null;
      default -> path.startsWith("tags/instance/") && tagsEnabled ? tags.get(path.substring("tags/instance/".length())) : null;
    };
  }

  private String roleCredentials() {
    credentialReads.incrementAndGet();
    return "{\"Code\":\"Success\",\"LastUpdated\":\"" + Instant.now() + "\",\"Type\":\"AWS-HMAC\","
        + "\"AccessKeyId\":\"ASIABERTHFAKEIMDS\",\"SecretAccessKey\":\"fake-imds-secret\","
        + "\"Token\":\"fake-imds-session\",\"Expiration\":\"" + Instant.now().plus(Duration.ofHours(6)) + "\"}";
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
