package io.berth.worker;

import io.berth.workflows.GatewayToken;
import io.berth.workflows.RedisUrls;
import io.berth.workflows.pools.Pool;
import io.berth.workflows.pools.Pools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The worker's settings, from environment variables (names in docs/CONFIGURATION.md). {@code temporalTarget}
 * empty means the embedded test server on {@code embeddedTemporalPort}, which only the stack module's
 * launcher runs (the worker on its own refuses to start without a target).
 */
public record WorkerConfig(
    Path stateDir,
    String temporalTarget,
    int embeddedTemporalPort,
    String namespace,
    String redisUrl,
    String redisPrefix,
    String provider,
    String domain,
    String gatewayListen,
    String nginxBin,
    boolean nginxEmbedded,
    Path nginxRoutesDir,
    String nginxReloadCommand,
    String routing,
    String template,
    String templateCommand,
    TemplateSettings templateSettings,
    int spares,
    int minHosts,
    int maxHosts,
    int slotsPerHost,
    int portFrom,
    int portTo,
    Duration reconcileInterval,
    Duration scaleOutCooldown,
    Duration stableWindow,
    int scaleOutStep,
    int scaleOutMaxStep,
    int probeAttempts,
    boolean queue,
    int workflowCacheSize,
    int pollers,
    String apiUrl,
    String workspaceAuth,
    String dashboardUrl,
    Aws aws,
    Isolation isolation,
    Pools pools) {

  /**
   * How workspaces are kept from Berth and from each other ({@code BERTH_ISOLATION}: auto, box,
   * off; docs/SECURITY.md). {@code trustWorkspaceUsers} ({@code BERTH_TRUST_WORKSPACE_USERS}) lets
   * templates that run user code start unboxed; {@code gatewayToken} ({@code BERTH_GATEWAY_TOKEN})
   * is empty when it lives in the state directory.
   */
  public record Isolation(String mode, boolean trustWorkspaceUsers, String gatewayToken) {
    @Override
    public String toString() {
      return "Isolation[mode=" + mode + ", trustWorkspaceUsers=" + trustWorkspaceUsers + "]"; // never the token
    }
  }

  /**
   * Provider {@code aws}: the default template's group, the zone, where routes point, an endpoint
   * override for tests; {@code groups}: every template's Auto Scaling group (template → group).
   */
  public record Aws(String region, String autoScalingGroup, String hostedZoneId, String addressKind, String dnsMode,
                    String endpoint, int templatePort, int agentPort, Map<String, String> groups) {}

  /**
   * Each template's own Auto Scaling group: {@code BERTH_POOL_<NAME>_ASG}, the default template's
   * also {@code BERTH_AWS_ASG}. Several templates need one group each, never one for two.
   */
  static Map<String, String> autoScalingGroups(Env e, Pools pools) {
    Map<String, String> groups = new java.util.LinkedHashMap<>();
    for (Pool p : pools.pools()) {
      String variable = "BERTH_POOL_" + p.name().toUpperCase(java.util.Locale.ROOT).replace('-', '_') + "_ASG";
      String group = e.get(variable, p.name().equals(pools.defaultTemplate()) ? e.get("BERTH_AWS_ASG", "") : "");
      if (group.isEmpty() && pools.pools().size() > 1) {
        throw new IllegalArgumentException("template '" + p.name() + "' needs its own Auto Scaling group on AWS: set "
            + variable + (p.name().equals(pools.defaultTemplate()) ? " or BERTH_AWS_ASG" : ""));
      }
      if (groups.containsValue(group) && !group.isEmpty()) {
        throw new IllegalArgumentException(variable + ": Auto Scaling group " + group
            + " is already another template's; a group runs one template's hosts");
      }
      groups.put(p.name(), group);
    }
    return java.util.Collections.unmodifiableMap(groups);
  }

  /**
   * The rest of what templates need: the command template's probe path, the Host header routes
   * send to workspaces ({@code client}/{@code upstream}), where code-server and Chromium are, how
   * often the local fleet reads slots for activity.
   */
  public record TemplateSettings(String probePath, String upstreamHost, Path codeServerBin, String chromiumBin,
                                 Duration activityInterval) {}

  public static WorkerConfig fromEnv(Map<String, String> env) {
    Env e = new Env(env);
    Path state = Path.of(e.get("BERTH_STATE_DIR", ".berth")).toAbsolutePath();
    String[] ports = e.get("BERTH_PORT_RANGE", "50000-60000").split("-");
    String apiUrl = e.get("BERTH_API_URL", "http://127.0.0.1:" + e.get("BERTH_API_PORT", "8080"));
    // The templates file (or the environment alone): the default template's pool is what the
    // single-template settings (template, spares, hosts, slots per host) have always meant.
    Pools pools = Pools.fromEnv(env);
    Pool dflt = pools.defaultPool();
    String provider = e.get("BERTH_PROVIDER", "local");
    return new WorkerConfig(
        state,
        e.get("BERTH_TEMPORAL_TARGET", ""),
        e.integer("BERTH_TEMPORAL_PORT", 7233),
        e.get("BERTH_TEMPORAL_NAMESPACE", "default"),
        RedisUrls.withPasswordFile(e.get("BERTH_REDIS_URL", "redis://127.0.0.1:6379"),
            e.get(RedisUrls.PASSWORD_FILE_ENV, "")),
        e.get("BERTH_REDIS_PREFIX", "berth:"),
        provider,
        e.get("BERTH_DOMAIN", "localhost"),
        e.get("BERTH_GATEWAY_LISTEN", "127.0.0.1:8088"),
        e.get("BERTH_NGINX_BIN", "/usr/sbin/nginx"),
        !"external".equals(e.get("BERTH_NGINX_MODE", "embedded")),
        Path.of(e.get("BERTH_NGINX_ROUTES_DIR", state.resolve("nginx/routes").toString())),
        e.get("BERTH_NGINX_RELOAD", "nginx -s reload"),
        e.get("BERTH_ROUTING", "dynamic"),
        dflt.name(),
        dflt.command() == null ? "" : dflt.command(),
        templateSettings(e, state, dflt),
        dflt.spares(),
        dflt.minHosts(),
        dflt.maxHosts(),
        dflt.slotsPerHost(),
        Integer.parseInt(ports[0].trim()),
        Integer.parseInt(ports[1].trim()),
        e.duration("BERTH_RECONCILE_INTERVAL", "PT10S"),
        e.duration("BERTH_SCALE_OUT_COOLDOWN", "PT180S"),
        e.duration("BERTH_SCALE_IN_STABLE_WINDOW", "PT5M"),
        e.integer("BERTH_SCALE_OUT_STEP", 2),
        e.integer("BERTH_SCALE_OUT_MAX_STEP", 10),
        e.integer("BERTH_PROBE_ATTEMPTS", 3),
        Boolean.parseBoolean(e.get("BERTH_QUEUE", "false")),
        e.integer("BERTH_WORKFLOW_CACHE", 600),
        e.integer("BERTH_POLLERS", 5),
        apiUrl,
        e.get("BERTH_WORKSPACE_AUTH", "cookie"),
        e.get("BERTH_DASHBOARD_URL", apiUrl.replaceAll("/+$", "") + "/"),
        new Aws(e.get("BERTH_AWS_REGION", "us-east-1"), e.get("BERTH_AWS_ASG", ""),
            e.get("BERTH_AWS_HOSTED_ZONE_ID", ""), e.get("BERTH_AWS_ADDRESS", "private"),
            e.get("BERTH_DNS_MODE", "record"), e.get("BERTH_AWS_ENDPOINT", ""),
            e.integer("BERTH_AWS_TEMPLATE_PORT", 8080), e.integer("BERTH_AWS_AGENT_PORT", 9100),
            "aws".equals(provider) ? autoScalingGroups(e, pools) : Map.of()),
        new Isolation(e.get("BERTH_ISOLATION", "auto"), trusted(e.get("BERTH_TRUST_WORKSPACE_USERS", "false")),
            e.get(GatewayToken.ENV, "")),
        pools);
  }

  private static boolean trusted(String v) {
    return switch (v.toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("BERTH_TRUST_WORKSPACE_USERS must be true or false, got '" + v + "'");
    };
  }

  private static TemplateSettings templateSettings(Env e, Path state, Pool dflt) {
    String template = dflt.kind();
    Path codeServerDir = Path.of(e.get("BERTH_CODE_SERVER_DIR", state.resolve("tools/code-server").toString()));
    return new TemplateSettings(
        e.get("BERTH_TEMPLATE_PROBE_PATH", dflt.probePath() == null ? "/" : dflt.probePath()),
        // Chromium's DevTools answers only an IP address or localhost as Host.
        e.get("BERTH_UPSTREAM_HOST", "chromium".equals(template) ? "upstream" : "client"),
        Path.of(e.get("BERTH_CODE_SERVER_BIN", codeServerDir.resolve("bin/code-server").toString())).toAbsolutePath(),
        e.get("BERTH_CHROMIUM_BIN", ""),
        e.duration("BERTH_ACTIVITY_INTERVAL", defaultActivityInterval(e.duration("BERTH_IDLE_TIMEOUT", "PT30M")).toString()));
  }

  /** A tenth of the idle timeout, at most 5 s: several reports fit in every idle period, however short. */
  static java.time.Duration defaultActivityInterval(java.time.Duration idle) {
    java.time.Duration tenth = idle.dividedBy(10);
    java.time.Duration max = java.time.Duration.ofSeconds(5);
    java.time.Duration min = java.time.Duration.ofMillis(100);
    return tenth.compareTo(max) > 0 ? max : tenth.compareTo(min) < 0 ? min : tenth;
  }

  /** Without the Redis password (records print every component). */
  @Override
  public String toString() {
    return "WorkerConfig[stateDir=" + stateDir + ", redis=" + RedisUrls.redact(redisUrl) + ", provider=" + provider
        + ", templates=" + pools.names() + " (default " + template + "), " + isolation + "]";
  }

  public boolean embeddedTemporal() {
    return temporalTarget.isBlank();
  }

  /** The SDK's default limit on workflow threads ({@code WorkerFactoryOptions}). */
  static final int SDK_WORKFLOW_THREADS = 600;

  /**
   * Each workflow in the sticky cache holds a workflow thread, so the thread limit follows the cache
   * (never below the SDK's default): a cache larger than the limit would evict to free threads.
   */
  public int maxWorkflowThreads() {
    return Math.max(SDK_WORKFLOW_THREADS, workflowCacheSize);
  }

  /** Reads a map with defaults and clear errors for malformed numbers and durations. */
  record Env(Map<String, String> env) {
    String get(String name, String dflt) {
      String v = env.get(name);
      return v == null || v.isBlank() ? dflt : v.trim();
    }

    int integer(String name, int dflt) {
      String v = get(name, String.valueOf(dflt));
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
      }
    }

    Duration duration(String name, String dflt) {
      String v = get(name, dflt);
      try {
        return Duration.parse(v);
      } catch (RuntimeException ex) {
        throw new IllegalArgumentException(name + " must be an ISO-8601 duration like PT30S, got '" + v + "'");
      }
    }
  }
}
