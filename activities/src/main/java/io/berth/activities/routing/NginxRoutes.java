package io.berth.activities.routing;

import io.berth.activities.Addresses;
import io.berth.workflows.Labels;
import io.berth.workflows.model.RouteSpec;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workspace routes as Nginx server blocks, one file per workspace: {@code routes/<label>.conf}.
 * File changes and reloads go through one {@link RouteReloader}, which batches concurrent calls;
 * a call returns only once Nginx answers for the hostname the way the call asked for.
 */
public final class NginxRoutes implements GatewayRoutes {
  private static final Logger log = LoggerFactory.getLogger(NginxRoutes.class);
  public static final Duration DEFAULT_BATCH_WINDOW = Duration.ofMillis(15);
  public static final Duration DEFAULT_SERVE_BOUND = Duration.ofSeconds(10);
  /** Consecutive answers that must agree before a route counts as serving (or gone). */
  private static final int CONSECUTIVE = 3;
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);

  private final NginxProcess nginx;
  private final RouteReloader reloader;
  private final Duration serveBound;
  private final WorkspaceAuth auth;
  private final UpstreamHost upstreamHost;

  /** Routes without an access check: anyone with the URL gets in (see {@link WorkspaceAuth}). */
  public NginxRoutes(NginxProcess nginx) {
    this(nginx, WorkspaceAuth.none());
  }

  public NginxRoutes(NginxProcess nginx, WorkspaceAuth auth) {
    this(nginx, auth, UpstreamHost.CLIENT);
  }

  /** {@code upstreamHost}: the Host header every route sends to its workspace (one template per deployment). */
  public NginxRoutes(NginxProcess nginx, WorkspaceAuth auth, UpstreamHost upstreamHost) {
    this(nginx, DEFAULT_BATCH_WINDOW, DEFAULT_SERVE_BOUND, auth, upstreamHost);
  }

  public NginxRoutes(NginxProcess nginx, Duration batchWindow, Duration serveBound) {
    this(nginx, batchWindow, serveBound, WorkspaceAuth.none());
  }

  /**
   * @param batchWindow how long the reloader lingers after the first change of a batch for more
   * @param serveBound how long one call may take in all: reload plus Nginx answering as asked. Keep
   *     it under the activity's start-to-close timeout (15 s in ActivityStubs), so that a retry
   *     never overlaps a call that is still waiting.
   * @param auth who gets past the gateway: written into every route file
   */
  public NginxRoutes(NginxProcess nginx, Duration batchWindow, Duration serveBound, WorkspaceAuth auth) {
    this(nginx, batchWindow, serveBound, auth, UpstreamHost.CLIENT);
  }

  /** @param upstreamHost the Host header routes send to workspaces ({@link UpstreamHost}) */
  public NginxRoutes(NginxProcess nginx, Duration batchWindow, Duration serveBound, WorkspaceAuth auth,
                     UpstreamHost upstreamHost) {
    this.nginx = nginx;
    this.serveBound = serveBound;
    this.auth = auth;
    this.upstreamHost = upstreamHost;
    this.reloader = new RouteReloader(nginx, batchWindow, serveBound);
  }

  @Override
  public void routeWorkspace(RouteSpec route) {
    validate(route, true);
    if (!nginx.isRunning()) {
      throw ApplicationFailure.newFailure("nginx is not running", "NginxUnavailable");
    }
    long deadline = System.nanoTime() + serveBound.toNanos();
    String block = ServerBlock.render(nginx.gateway(), route.label(), route.hostname(), route.upstreamAddress(),
        route.upstreamPort(), auth, upstreamHost);
    await(reloader.submit(route.label(), block), deadline);
    awaitAnswers(route, true, deadline);
    log.info("route {} -> {}:{} serving", route.label(), route.upstreamAddress(), route.upstreamPort());
  }

  @Override
  public void unrouteWorkspace(RouteSpec route) {
    validate(route, false);
    boolean fileThere = Files.exists(file(route.label()));
    if (!fileThere && (!nginx.isRunning() || !answersForRoute(route))) {
      return;
    }
    // Also when the file is gone but Nginx still serves the route (a reload that never happened).
    long deadline = System.nanoTime() + serveBound.toNanos();
    await(reloader.submit(route.label(), null), deadline);
    if (nginx.isRunning()) {
      awaitAnswers(route, false, deadline);
    }
    log.info("route {} removed", route.label());
  }

  @Override
  public List<String> routedLabels() {
    try (Stream<Path> files = Files.list(nginx.routesDir())) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".conf"))
          .map(n -> n.substring(0, n.length() - ".conf".length()))
          .filter(Labels::validLabel)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw ApplicationFailure.newFailure("cannot list routes: " + e.getMessage(), "RouteReadFailed");
    }
  }

  @Override
  public RoutingHealth health() {
    int routes = routeCount();
    return new RoutingHealth(nginx.isRunning(), routes, reloader.reloads(), reloader.changesApplied(),
        reloader.failures(), reloader.lastError(), reloader.lastErrorAt());
  }

  private Path file(String label) {
    return nginx.routesDir().resolve(label + ".conf");
  }

  /** Rejects anything that is not a DNS label, {@code <label>.<domain>}, an address and a port. */
  static void validate(RouteSpec route, boolean withUpstream) {
    if (route == null) {
      throw invalid("route missing");
    }
    if (!Labels.validLabel(route.label())) {
      throw invalid("label must be a lowercase DNS label");
    }
    String host = route.hostname();
    String prefix = route.label() + ".";
    if (host == null || !host.startsWith(prefix) || !Addresses.domainName(host.substring(prefix.length()))) {
      throw invalid("hostname must be <label>.<domain>");
    }
    if (withUpstream) {
      if (!Addresses.host(route.upstreamAddress())) {
        throw invalid("upstream must be an IP literal or a DNS name");
      }
      if (!Addresses.port(route.upstreamPort())) {
        throw invalid("upstream port must be 1..65535");
      }
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private void await(CompletableFuture<Void> done, long deadline) {
    try {
      done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ApplicationFailure f) {
        throw f;
      }
      throw ApplicationFailure.newFailure("route change failed: " + e.getCause(), "ReloadFailed");
    } catch (TimeoutException e) {
      throw ApplicationFailure.newFailure("route change not applied within " + serveBound, "ReloadTimeout");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted waiting for nginx", "ReloadTimeout");
    }
  }

  /** Polls the gateway until {@value #CONSECUTIVE} answers in a row carry (or lack) this route's header. */
  private void awaitAnswers(RouteSpec route, boolean routed, long deadline) {
    int streak = 0;
    while (streak < CONSECUTIVE) {
      if (System.nanoTime() > deadline) {
        throw ApplicationFailure.newFailure("nginx does not " + (routed ? "serve" : "drop") + " route "
            + route.label() + " within " + serveBound, "RouteNotServing");
      }
      streak = answersForRoute(route) == routed ? streak + 1 : 0;
      if (streak < CONSECUTIVE) {
        pause();
      }
    }
  }

  private boolean answersForRoute(RouteSpec route) {
    try {
      GatewayClient.Answer a = GatewayClient.get(nginx.gateway(), route.hostname(), ServerBlock.CHECK_PATH,
          CHECK_TIMEOUT);
      return route.label().equals(a.header(ServerBlock.ROUTE_HEADER));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static void pause() {
    try {
      Thread.sleep(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted waiting for nginx", "RouteNotServing");
    }
  }

  /** Stops the reloader thread; Nginx itself is the owner's to stop. */
  @Override
  public void close() {
    reloader.close();
  }
}
