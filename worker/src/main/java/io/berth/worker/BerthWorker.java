package io.berth.worker;

import io.berth.activities.aws.AwsClients;
import io.berth.activities.aws.AwsSettings;
import io.berth.activities.dns.NoDns;
import io.berth.activities.dns.Route53Dns;
import io.berth.activities.fleet.aws.AwsFleet;
import io.berth.activities.fleet.aws.AwsFleets;
import io.berth.activities.fleet.Fleet;
import io.berth.activities.fleet.FleetActivitiesImpl;
import io.berth.activities.fleet.local.LocalFleets;
import io.berth.activities.fleet.local.LocalFleetConfig;
import io.berth.activities.fleet.local.CommandTemplate;
import io.berth.activities.fleet.local.SlotBox;
import io.berth.activities.fleet.local.SlotFirewall;
import io.berth.workflows.GatewayToken;
import io.berth.workflows.RedisUrls;
import io.berth.activities.fleet.local.Template;
import io.berth.activities.fleet.local.Templates;
import io.berth.activities.probe.HttpProbe;
import io.berth.activities.routing.ArmedReclaim;
import io.berth.activities.routing.GatewayRoutes;
import io.berth.activities.routing.NginxProcess;
import io.berth.activities.routing.NginxRoutes;
import io.berth.activities.routing.RedisRoutes;
import io.berth.activities.routing.RoutingMode;
import io.berth.activities.routing.UpstreamHost;
import io.berth.activities.routing.WildcardServer;
import io.berth.activities.routing.WorkspaceAuth;
import io.berth.activities.store.PortAllocator;
import io.berth.activities.store.RedisStore;
import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.CapacityPokes;
import io.berth.workflows.LiveClaims;
import io.berth.workflows.SessionThenPoke;
import io.berth.workflows.CapacityWorkflowImpl;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflowImpl;
import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.model.CapacityMemory;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.pools.Pool;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.worker.Worker;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * The worker: the provider's fleet and DNS, Nginx routes, the Redis store and probes as
 * activities on task queue {@code berth}, both workflows, and a capacity controller per template.
 */
public final class BerthWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BerthWorker.class);

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final WorkerConfig config;
  private final WorkflowClient client;
  private WorkerFactory factory;
  private LocalFleets localFleet;
  /** Template → its readiness path, for the probe (the local fleet's templates; built-in paths on AWS). */
  private final Map<String, String> probePaths = new HashMap<>();
  /** The machine's box for templates that run user code, probed once for all of them. */
  private SlotBox machineBox;
  private boolean machineBoxProbed;
  private NginxProcess nginx;
  private GatewayRoutes routes;
  private Fleet fleet;
  private AwsClients aws;
  private ScheduledExecutorService upkeep;
  private LostWorkspaces lostWorkspaces;
  private StaleSessions staleSessions;

  private final WorkerInterceptor[] interceptors;

  private BerthWorker(WorkerConfig config, WorkflowClient client, WorkerInterceptor[] interceptors) {
    this.config = config;
    this.client = client;
    this.interceptors = interceptors;
  }

  /** {@code interceptors}: extra worker interceptors (tests inject faults at the activity boundary with one). */
  public static BerthWorker start(WorkerConfig config, WorkflowClient client, WorkerInterceptor... interceptors) {
    BerthWorker w = new BerthWorker(config, client, interceptors);
    try {
      w.startAll();
      return w;
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
  }

  private void startAll() {
    // Checked before anything starts: these addresses go into every route file.
    WorkspaceAuth access = WorkspaceAuth.fromConfig(config.workspaceAuth(), config.apiUrl(), config.dashboardUrl());
    RoutingMode routing = RoutingMode.fromConfig(config.routing());
    UpstreamHost upstreamHost = UpstreamHost.fromConfig(config.templateSettings().upstreamHost(), UpstreamHost.CLIENT);
    RedisClient redis = RedisClient.create(config.redisUrl());
    closeables.add(redis);
    RedisKeys keys = new RedisKeys(config.redisPrefix());

    fleet = fleet(redis, keys);
    nginx = startNginx(routing == RoutingMode.DYNAMIC
        ? new WildcardServer(config.domain(), config.apiUrl(), access, upstreamHost) : null);
    routes = routing == RoutingMode.DYNAMIC
        ? new RedisRoutes(nginx, redis, keys)
        : new NginxRoutes(nginx, access, upstreamHost);
    closeables.add(0, routes);
    // Dynamic routing: the armed reclaim removes the route record itself; route files: it runs their unroute.
    ArmedReclaim armedReclaim = new ArmedReclaim(redis, keys, routing == RoutingMode.DYNAMIC ? null : routes);
    closeables.add(0, armedReclaim);
    DnsActivities dns = aws == null ? new NoDns() : new Route53Dns(awsSettings(), aws);
    RedisStore store = new RedisStore(redis, keys, fleet);
    staleSessions = new StaleSessions(client, redis, keys, store);
    lostWorkspaces = new LostWorkspaces(client, redis, keys, config.domain(), fleet, staleSessions,
        this::capacityIdOf);

    factory = WorkerFactory.newInstance(client, WorkerFactoryOptions.newBuilder()
        .setWorkerInterceptors(interceptors)
        .setWorkflowCacheSize(config.workflowCacheSize())
        .setMaxWorkflowThreadCount(config.maxWorkflowThreads())
        .build());
    Worker worker = factory.newWorker(TaskQueues.BERTH, workerOptions());
    worker.registerWorkflowImplementationTypes(WorkspaceWorkflowImpl.class, CapacityWorkflowImpl.class);
    CapacityPokes pokes = new CapacityPokes(client);
    closeables.add(0, pokes);
    // A warm allocation pokes its own template's controller.
    worker.registerActivitiesImplementations(store, new FleetActivitiesImpl(fleet, store::claimed), dns, routes,
        probe(), armedReclaim, pokes, new SessionThenPoke(store, pokes, config.pools()::controllerId),
        new LiveClaims(client));
    factory.start();
    HealthPublisher health = new HealthPublisher(redis, keys, nginx, routes, routing);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "berth-health");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(health::publish, 0, 2, TimeUnit.SECONDS);
    closeables.add(0, timer::shutdownNow);
    startCapacity();
    startUpkeep();
    for (Pool p : config.pools().pools()) {
      log.info("worker started: provider {}, template {}{} (kind {}), spares {}, hosts {}..{}, {} slot(s) per host, "
          + "controller {}", config.provider(), p.name(), p.name().equals(config.template()) ? " (default)" : "",
          p.kind(), p.spares(), p.minHosts(), p.maxHosts(), p.slotsPerHost(), config.pools().controllerId(p.name()));
    }
    log.info("workspace auth {}, routing {}", access.mode(), routing);
  }

  /**
   * What keeps running without anyone asking: a managed Nginx that died is started again, and a
   * capacity workflow that is gone (a Temporal test server that restarted keeps nothing) is
   * started again, after the search attributes are registered again and the READY workspaces'
   * workflows are re-created from their sessions ({@link LostWorkspaces}).
   */
  private void startUpkeep() {
    // Two threads: a Temporal call that waits out an outage must not hold up an Nginx restart.
    upkeep = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "berth-upkeep");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(1000, config.reconcileInterval().toMillis());
    upkeep.scheduleWithFixedDelay(this::keepNginxRunning, 2000, 2000, TimeUnit.MILLISECONDS);
    upkeep.scheduleWithFixedDelay(this::keepCapacityRunning, every, every, TimeUnit.MILLISECONDS);
  }

  /** Stops the upkeep first, so that nothing restarts what close() is stopping. */
  private void stopUpkeep() {
    if (upkeep != null) {
      upkeep.shutdownNow();
      try {
        upkeep.awaitTermination(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  void keepNginxRunning() {
    if (nginx == null || nginx.external() || nginx.isRunning()) {
      return;
    }
    try {
      nginx.start();
      log.warn(nginx.dynamic() ? "nginx had stopped: started it again (routes are in Redis)"
          : "nginx had stopped: started it again with every route file");
    } catch (RuntimeException e) {
      log.warn("nginx is not running and does not start: {}", e.getMessage());
    }
  }

  void keepCapacityRunning() {
    boolean lost = false;
    boolean stopped = false;
    for (String id : controllerIds()) {
      try {
        WorkflowExecutionStatus status = client.newUntypedWorkflowStub(id).describe().getStatus();
        if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          log.warn("the capacity workflow {} is {}: starting it again", id, status);
          stopped = true;
        }
      } catch (WorkflowNotFoundException e) {
        lost = true;
      } catch (RuntimeException e) {
        log.debug("cannot check the capacity workflow {}: {}", id, e.toString());
        return;
      }
    }
    if (!lost && !stopped) {
      staleSessions.sweep(); // Temporal kept its state: a session whose run closed is stale
      return;
    }
    if (lost) {
      log.warn("a capacity workflow is gone (Temporal lost its state?): registering search attributes, "
          + "re-creating the READY workspaces' workflows and the controllers");
      TemporalConnection.registerSearchAttributes(client.getOptions().getNamespace(),
          client.getWorkflowServiceStubs().getOptions().getTarget());
      lostWorkspaces.recreate();
    }
    try {
      startCapacity();
    } catch (RuntimeException e) {
      log.warn("could not start the capacity workflows: {}", e.toString());
    }
  }

  /** One controller per template: {@code capacity} for the default template's pool, {@code capacity-<name>} for the others. */
  private List<String> controllerIds() {
    return config.pools().names().stream().map(config.pools()::controllerId).toList();
  }

  /** The controller a workspace of {@code template} signals; null for the default template's ({@code capacity}). */
  private String capacityIdOf(String template) {
    if (template == null || config.pools().get(template) == null) {
      return null;
    }
    String id = config.pools().controllerId(template);
    return CapacityWorkflow.ID.equals(id) ? null : id;
  }

  /**
   * A cache of 0 also turns sticky execution off: every task goes to the shared queue and replays
   * its history on any worker. The cache size alone does not do that (the SDK still asks for
   * sticky tasks and answers cache misses), and Temporal's test server never moves a task off a
   * dead worker's sticky queue, so a killed worker would strand its workflows there; a zero
   * sticky schedule-to-start timeout makes the SDK stop asking for sticky dispatch.
   */
  private WorkerOptions workerOptions() {
    WorkerOptions.Builder b = WorkerOptions.newBuilder()
        // The embedded stack shares two cores with everything else: a GC pause is not a deadlock.
        .setDefaultDeadlockDetectionTimeout(5_000)
        // Each poller holds one long poll and takes one task per answer. More is not faster on a
        // small machine: 10 doubled the activity queueing at 50 concurrent allocations here.
        .setMaxConcurrentActivityTaskPollers(config.pollers())
        .setMaxConcurrentWorkflowTaskPollers(config.pollers());
    if (config.workflowCacheSize() == 0) {
      b.setStickyQueueScheduleToStartTimeout(java.time.Duration.ZERO);
    }
    return b.build();
  }

  private Fleet fleet(RedisClient redis, RedisKeys keys) {
    if ("aws".equals(config.provider())) {
      probePaths.putAll(HttpProbe.pathsWith(Templates.COMMAND, config.templateSettings().probePath()));
      aws = AwsClients.create(awsSettings());
      closeables.add(aws);
      if (config.pools().pools().size() == 1) {
        return new AwsFleet(awsSettings(), aws);
      }
      Map<String, AwsSettings> groups = new LinkedHashMap<>();
      for (Pool p : config.pools().pools()) {
        groups.put(p.name(), awsSettings(p));
        probePaths.put(p.name(), awsProbePath(p));
      }
      return new AwsFleets(config.template(), groups, aws);
    }
    if (!"local".equals(config.provider())) {
      throw new IllegalArgumentException("unknown provider " + config.provider() + " (local, aws)");
    }
    PortAllocator ports = new PortAllocator(redis, keys, config.portFrom(), config.portTo());
    List<LocalFleetConfig> groups = new ArrayList<>();
    probePaths.putAll(HttpProbe.DEFAULT_PATHS);
    for (Pool p : config.pools().pools()) {
      Template template = template(p);
      probePaths.put(p.name(), template.probePath());
      groups.add(new LocalFleetConfig(config.stateDir(), p.minHosts(), p.maxHosts(), p.slotsPerHost(), template,
          config.apiUrl(), java.time.Duration.ofMillis(500), config.templateSettings().activityInterval(),
          box(template)));
    }
    localFleet = new LocalFleets(redis, keys, ports, config.template(), groups).start();
    return localFleet;
  }

  /** What the pool's slots run: its kind, named by the pool; the default's probe path may come from the environment. */
  private Template template(Pool p) {
    WorkerConfig.TemplateSettings t = config.templateSettings();
    String probePath = p.name().equals(config.template()) ? t.probePath() : p.probePath();
    try {
      return Templates.forPool(p.name(), new Templates.Settings(p.kind(), p.command(), probePath, t.codeServerBin(),
          t.chromiumBin()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("template '" + p.name() + "': " + e.getMessage(), e);
    }
  }

  /**
   * The box for slots of a template that runs user code (docs/SECURITY.md), or null. Refuses to
   * start such a template unboxed unless the operator trusts every workspace user.
   */
  private SlotBox box(Template template) {
    if (!template.runsUserCode()) {
      log.info("isolation: template {} runs no user code, slots are not boxed", template.name());
      return null;
    }
    if (!machineBoxProbed) {
      machineBox = machineBox(template);
      machineBoxProbed = true;
    }
    if (machineBox != null && template instanceof CommandTemplate c) {
      SlotBox.checkProgram(c.words().get(0), System.getenv().getOrDefault("PATH", ""));
    }
    return machineBox;
  }

  /**
   * The box every template that runs user code shares (docs/SECURITY.md), or null: probed once,
   * for the first such template, which a refusal names.
   */
  private SlotBox machineBox(Template template) {
    SlotBox.Mode mode = SlotBox.Mode.fromConfig(config.isolation().mode());
    StringBuilder why = new StringBuilder();
    SlotBox box = mode == SlotBox.Mode.OFF ? null : SlotBox.probe(config.stateDir(), why);
    if (box == null && mode == SlotBox.Mode.OFF) {
      why.append("BERTH_ISOLATION=off");
    }
    if (box == null && mode == SlotBox.Mode.BOX) {
      throw new IllegalStateException("BERTH_ISOLATION=box, but slots cannot be boxed here: " + why);
    }
    if (box == null && !config.isolation().trustWorkspaceUsers()) {
      throw new IllegalStateException("template " + template.name() + " lets its users run code, and slots cannot be "
          + "boxed here (" + why + "): a workspace user could read Berth's secrets and take over every workspace. "
          + "Run as root with bubblewrap installed, or set BERTH_TRUST_WORKSPACE_USERS=true if every workspace user "
          + "may do that (docs/SECURITY.md)");
    }
    if (box == null) {
      log.warn("isolation: OFF ({}); BERTH_TRUST_WORKSPACE_USERS=true: every workspace user can read Berth's state "
          + "directory and reach its control plane", why);
      return null;
    }
    log.info("isolation: each slot of a template that runs user code runs as its own uid in a bubblewrap box "
        + "(its directory only)");
    StringBuilder noFirewall = new StringBuilder();
    SlotFirewall firewall = SlotFirewall.probe(config.portFrom(), config.portTo(),
        List.of(localPort(config.redisUrl()), config.embeddedTemporal() ? config.embeddedTemporalPort() : 0), noFirewall);
    box.withFirewall(firewall);
    // Said at every start: slots have no network namespace of their own (docs/SECURITY.md).
    if (firewall != null) {
      log.info("isolation: slots share this machine's network namespace (the gateway reaches them on 127.0.0.1); an "
          + "nftables rule per slot resets its connections to local ports {} but its own", firewall.describe());
    } else {
      log.warn("isolation: slots share this machine's network namespace (the gateway reaches them on 127.0.0.1) and "
          + "cannot be filtered ({}): a workspace can connect to other workspaces' ports around the gateway; Redis "
          + "(password), the gateway endpoints (token) and the embedded Temporal (peer uid) refuse it", noFirewall);
    }
    if (!RedisUrls.hasPassword(config.redisUrl())) {
      log.warn("isolation: Redis is used without a password: any workspace can write to it. Give it one "
          + "(requirepass) and set it in BERTH_REDIS_URL or BERTH_REDIS_PASSWORD_FILE");
    }
    return box;
  }

  /** The port of a Redis URL naming a local host (what a slot could connect to), else 0. */
  private static int localPort(String redisUrl) {
    try {
      java.net.URI u = java.net.URI.create(redisUrl);
      String h = u.getHost() == null ? "" : u.getHost();
      boolean local = h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]") || h.equals("::1");
      return local ? (u.getPort() > 0 ? u.getPort() : 6379) : 0;
    } catch (IllegalArgumentException e) {
      return 0;
    }
  }

  /**
   * Local slots live on this machine, so an address that is not loopback means something is
   * wrong; EC2 instances are reached on the addresses EC2 reports.
   */
  private HttpProbe probe() {
    return new HttpProbe(probePaths, HttpProbe.DEFAULT_TIMEOUT, HttpProbe.DEFAULT_AWAIT_WINDOW, localFleet != null);
  }

  /** The default template's group: what a single-template deployment has always used, and the DNS zone's settings. */
  private AwsSettings awsSettings() {
    return awsSettings(config.pools().defaultPool());
  }

  /** The template's own Auto Scaling group, slots per host and name; the rest as every template's. */
  private AwsSettings awsSettings(Pool p) {
    WorkerConfig.Aws a = config.aws();
    return new AwsSettings(a.region(), a.groups().get(p.name()), a.hostedZoneId(), config.domain(), a.addressKind(),
        a.dnsMode(), a.endpoint().isBlank() ? null : URI.create(a.endpoint()), a.templatePort(), p.slotsPerHost(),
        p.name(), a.agentPort());
  }

  /** What the instance's template answers ready on: a command template's probe path, else its kind's. */
  private String awsProbePath(Pool p) {
    String commandPath = p.name().equals(config.template()) ? config.templateSettings().probePath()
        : p.probePath() == null ? "/" : p.probePath();
    return Templates.COMMAND.equals(p.kind()) ? commandPath : HttpProbe.DEFAULT_PATHS.getOrDefault(p.kind(), "/");
  }

  /** {@code wildcard}: dynamic routing's server for a managed Nginx (an external one has it in its own config). */
  private NginxProcess startNginx(WildcardServer wildcard) {
    NginxProcess n = config.nginxEmbedded()
        ? NginxProcess.managed(config.stateDir().resolve("nginx"), config.gatewayListen(), config.nginxBin(), wildcard)
        : NginxProcess.external(config.nginxRoutesDir(), config.gatewayListen(),
            List.of(config.nginxBin(), "-t"), List.of(config.nginxReloadCommand().split(" ")), null);
    if (!n.external()) {
      Map<String, String> tokenEnv = new HashMap<>();
      tokenEnv.put(GatewayToken.ENV, config.isolation().gatewayToken());
      tokenEnv.put("BERTH_STATE_DIR", config.stateDir().toString());
      n.withGatewayToken(GatewayToken.resolve(tokenEnv));
      n.start();
    }
    return n;
  }

  /** The pool's controller settings: the pool's own spares, bounds, slots and rules; the fleet-wide timing. */
  static CapacityParams capacityParams(WorkerConfig config, Pool p) {
    return new CapacityParams(p.name(), p.spares(), p.minHosts(), p.maxHosts(), p.slotsPerHost(),
        config.scaleOutStep(), config.scaleOutMaxStep(), config.reconcileInterval(), config.scaleOutCooldown(),
        config.stableWindow(), config.probeAttempts(), 100, config.queue(), CapacityMemory.empty(), p.rules());
  }

  /** Starts each template's controller, or hands a running one this worker's settings. */
  private void startCapacity() {
    for (Pool p : config.pools().pools()) {
      String id = config.pools().controllerId(p.name());
      CapacityWorkflow stub = client.newWorkflowStub(CapacityWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(id)
          .setTaskQueue(TaskQueues.BERTH)
          .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
          .build());
      CapacityParams params = capacityParams(config, p);
      WorkflowClient.start(stub::run, params);
      client.newWorkflowStub(CapacityWorkflow.class, id).reconfigure(params);
    }
  }

  public NginxProcess nginx() {
    return nginx;
  }

  public Fleet fleet() {
    return fleet;
  }

  public GatewayRoutes routes() {
    return routes;
  }

  /**
   * What a crash leaves behind, for recovery tests: polling stops mid-flight, but Nginx and the
   * workspace processes keep running for the next worker to adopt.
   */
  public void abandon() {
    stopUpkeep();
    if (factory != null) {
      factory.shutdownNow();
      factory.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (localFleet != null) {
      localFleet.detach();
    }
    for (AutoCloseable c : closeables) {
      if (c != routes) {
        try {
          c.close();
        } catch (Exception e) {
          log.warn("closing {}: {}", c, e.toString());
        }
      }
    }
  }

  /** Stops polling, then Nginx and every workspace process this worker started. */
  @Override
  public void close() {
    stopUpkeep();
    if (factory != null) {
      factory.shutdownNow();
      factory.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (localFleet != null) {
      localFleet.shutdownAll();
    }
    if (nginx != null && !nginx.external()) {
      nginx.close();
    }
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing {}: {}", c, e.toString());
      }
    }
  }
}
