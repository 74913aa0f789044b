package io.berth.activities.routing;

import io.berth.workflows.GatewayToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Nginx that serves the workspace routes.
 *
 * <p>Managed mode: a private instance under a prefix directory, no root and no system service
 * needed. Its main config keeps every path inside the prefix (the Debian build points pid, logs
 * and temp paths at /run and /var), includes {@code <prefix>/routes/*.conf} and answers unknown
 * hosts with a 404 JSON body. It runs in the foreground as a child of this JVM, so its exit is
 * seen (and reaped) at once.
 *
 * <p>External mode: an Nginx run by someone else; we only write into its routes directory and
 * run the given test and reload commands. Its http block must include the routes directory and
 * define the {@code $berth_connection_upgrade} map (see {@link #HTTP_COMMON}).
 */
public final class NginxProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NginxProcess.class);
  public static final String DEFAULT_LISTEN = "127.0.0.1:8088";
  public static final String NOT_FOUND_BODY = "{\"error\":\"not_found\",\"message\":\"no workspace at this address\"}";
  /** What the route files need from the http block around them. */
  public static final String HTTP_COMMON = """
      map $http_upgrade $berth_connection_upgrade {
          default upgrade;
          ''      close;
      }
      """;
  /** The prefix reaches the config unquoted-safe: no spaces, quotes, semicolons or braces. */
  private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._/@+=-]*");
  private static final String INSTANCE_HEADER = "X-Berth-Gateway";
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration START_BOUND = Duration.ofSeconds(10);
  private static final Duration STOP_BOUND = Duration.ofSeconds(10);

  /** Outcome of {@code nginx -t}: passed, and what nginx said. */
  public record TestResult(boolean ok, String output) {}

  /** Raised when the configuration cannot be applied because Nginx is not running. */
  public static final class NotRunningException extends IllegalStateException {
    public NotRunningException(String message) {
      super(message);
    }
  }

  private final boolean external;
  private final Path prefix;
  private final Path routesDir;
  private final Gateway gateway;
  private final String binary;
  /** Managed: the nginx command line for this prefix, without an action. */
  private final List<String> baseCommand;
  private final List<String> testCommand;
  private final List<String> reloadCommand;
  private final Path pidFile;
  /** Dynamic routing: the one server for every workspace host (null: route files). */
  private final WildcardServer wildcard;
  private Process child;
  private ProcessHandle master;
  /** Written into the default server at each start, so a start can tell its own Nginx from another on the port. */
  private String instanceToken = newToken();

  private volatile String gatewayToken = java.util.UUID.randomUUID().toString().replace("-", "");

  private NginxProcess(boolean external, Path prefix, Path routesDir, Gateway gateway, String binary,
                       List<String> baseCommand, List<String> testCommand, List<String> reloadCommand,
                       Path pidFile, WildcardServer wildcard) {
    this.external = external;
    this.wildcard = wildcard;
    this.prefix = prefix;
    this.routesDir = routesDir;
    this.gateway = gateway;
    this.binary = binary;
    this.baseCommand = List.copyOf(baseCommand);
    this.testCommand = List.copyOf(testCommand);
    this.reloadCommand = List.copyOf(reloadCommand);
    this.pidFile = pidFile;
  }

  /** A private Nginx under {@code prefix}, listening on {@code listen} (e.g. {@value #DEFAULT_LISTEN}). */
  public static NginxProcess managed(Path prefix, String listen) {
    return managed(prefix, listen, defaultBinary());
  }

  public static NginxProcess managed(Path prefix, String listen, String binary) {
    return managed(prefix, listen, binary, null);
  }

  /**
   * With {@code wildcard} (dynamic routing) the main config holds the one server for every
   * workspace host and includes no route files; null: one route file per workspace.
   */
  public static NginxProcess managed(Path prefix, String listen, String binary, WildcardServer wildcard) {
    Path p = prefix.toAbsolutePath().normalize();
    if (!SAFE_PATH.matcher(p.toString()).matches()) {
      throw new IllegalArgumentException("nginx prefix must be a plain path ([A-Za-z0-9._/@+=-])");
    }
    List<String> base = List.of(binary, "-p", p + "/", "-c", p.resolve("conf/nginx.conf").toString(),
        "-e", p.resolve("logs/error.log").toString());
    List<String> test = new ArrayList<>(base);
    test.add("-t");
    return new NginxProcess(false, p, p.resolve("routes"), Gateway.parse(listen), binary, base, test, List.of(),
        p.resolve("logs/nginx.pid"), wildcard);
  }

  /**
   * An Nginx run by someone else. {@code pidFile} may be null: then {@link #isRunning()} cannot
   * tell and answers true, and a reload returns without waiting for the old workers to retire.
   */
  /**
   * The token this managed Nginx sends the API on every {@code /api/gateway/*} subrequest
   * ({@link GatewayToken}); until set, a random one no API accepts. Takes effect at the next start.
   */
  public NginxProcess withGatewayToken(String token) {
    GatewayToken.nginxMap(token); // checked before it can reach the config
    this.gatewayToken = token;
    return this;
  }

  public static NginxProcess external(Path routesDir, String listen, List<String> testCommand,
                                      List<String> reloadCommand, Path pidFile) {
    return new NginxProcess(true, null, routesDir.toAbsolutePath().normalize(), Gateway.parse(listen),
        defaultBinary(), List.of(), testCommand, reloadCommand, pidFile, null);
  }

  /** {@code BERTH_NGINX_BIN}, else /usr/sbin/nginx. */
  public static String defaultBinary() {
    String env = System.getenv("BERTH_NGINX_BIN");
    return env == null || env.isBlank() ? "/usr/sbin/nginx" : env;
  }

  public boolean external() {
    return external;
  }

  public Path routesDir() {
    return routesDir;
  }

  public Gateway gateway() {
    return gateway;
  }

  public Path prefix() {
    return prefix;
  }

  /** True when the main config routes every workspace host through the API (no route files). */
  public boolean dynamic() {
    return wildcard != null;
  }

  /**
   * Managed: writes the main config and starts Nginx, or adopts one that an earlier run of this
   * JVM left behind for the same prefix (its routes keep serving). Returns once the gateway
   * answers. External: only makes sure the routes directory exists.
   */
  public synchronized void start() {
    try {
      Files.createDirectories(routesDir);
      if (external) {
        return;
      }
      for (String dir : List.of("conf", "logs", "temp")) {
        Files.createDirectories(prefix.resolve(dir));
      }
      if (isRunning()) {
        return;
      }
      instanceToken = newToken();
      writeAtomically(prefix.resolve("conf/nginx.conf"), mainConfig());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Optional<ProcessHandle> leftOver = masterFromPidFile();
    if (leftOver.isPresent()) {
      adopt(leftOver.get());
      return;
    }
    TestResult test = test();
    if (!test.ok()) {
      throw new IllegalStateException("nginx config test failed: " + test.output());
    }
    launch();
  }

  private void adopt(ProcessHandle running) {
    log.info("adopting nginx master {} already running for {}", running.pid(), prefix);
    master = running;
    TestResult test = test();
    if (!test.ok()) {
      throw new IllegalStateException("nginx config test failed: " + test.output());
    }
    reloadTested(START_BOUND);
    awaitAnswering();
  }

  private void launch() {
    List<String> cmd = new ArrayList<>(baseCommand);
    cmd.addAll(List.of("-g", "daemon off;"));
    try {
      child = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(prefix.resolve("logs/nginx.out").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + binary, e);
    }
    master = child.toHandle();
    try {
      awaitAnswering();
    } catch (RuntimeException e) {
      stop();
      throw e;
    }
    log.info("nginx master {} serving {} from {}", master.pid(), gateway.listen(), prefix);
  }

  private void awaitAnswering() {
    long deadline = System.nanoTime() + START_BOUND.toNanos();
    while (System.nanoTime() < deadline) {
      if (!master.isAlive()) {
        throw new IllegalStateException("nginx exited at start: " + tail(prefix.resolve("logs/nginx.out"))
            + " " + tail(prefix.resolve("logs/error.log")));
      }
      if (answersNotFound()) {
        return;
      }
      pause(20);
    }
    throw new IllegalStateException("nginx did not answer on " + gateway.listen() + " within " + START_BOUND);
  }

  private boolean answersNotFound() {
    try {
      GatewayClient.Answer a = GatewayClient.get(gateway, "berth-gateway-check.invalid", "/", Duration.ofSeconds(1));
      return a.status() == 404 && instanceToken.equals(a.header(INSTANCE_HEADER));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** {@code nginx -t} for this configuration. */
  public TestResult test() {
    CommandResult r = run(testCommand);
    return new TestResult(r.exit() == 0, r.output().strip());
  }

  /** Tests the configuration, then reloads if it passed; the result says which happened. */
  public TestResult reload() {
    TestResult test = test();
    if (test.ok()) {
      reloadTested(START_BOUND);
    }
    return test;
  }

  /**
   * Reloads a configuration the caller has just tested. Managed (or external with a pid file):
   * a HUP to the master, then waits until a new worker runs and every old worker is gone or has
   * stopped accepting, so that from the return on only the new configuration answers.
   *
   * @throws NotRunningException when there is no master to signal
   * @throws IllegalStateException when the reload did not take effect within {@code bound}
   */
  public synchronized void reloadTested(Duration bound) {
    if (external && pidFile == null) {
      CommandResult r = run(reloadCommand);
      if (r.exit() != 0) {
        throw new IllegalStateException("reload command failed: " + r.output().strip());
      }
      return;
    }
    ProcessHandle m = currentMaster().orElseThrow(() -> new NotRunningException("nginx is not running"));
    Set<Long> before = activeWorkers(m);
    if (external) {
      CommandResult r = run(reloadCommand);
      if (r.exit() != 0) {
        throw new IllegalStateException("reload command failed: " + r.output().strip());
      }
    } else {
      signal("HUP", m.pid());
    }
    awaitWorkersReplaced(m, before, bound);
  }

  private void awaitWorkersReplaced(ProcessHandle m, Set<Long> before, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (System.nanoTime() < deadline) {
      if (!m.isAlive()) {
        throw new NotRunningException("nginx exited during reload");
      }
      Set<Long> now = activeWorkers(m);
      boolean fresh = now.stream().anyMatch(pid -> !before.contains(pid));
      boolean oldRetired = before.stream().noneMatch(now::contains);
      if (fresh && oldRetired) {
        return;
      }
      pause(5);
    }
    throw new IllegalStateException("nginx did not replace its workers within " + bound + ": "
        + tail(errorLog()));
  }

  /** Worker pids that still accept connections (a retiring worker renames itself "... is shutting down"). */
  static Set<Long> activeWorkers(ProcessHandle m) {
    return m.children()
        .filter(ProcessHandle::isAlive)
        .filter(p -> {
          String title = title(p.pid());
          return title.contains("worker process") && !title.contains("shutting down");
        })
        .map(ProcessHandle::pid)
        .collect(Collectors.toSet());
  }

  private static String title(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  public synchronized boolean isRunning() {
    if (external && pidFile == null) {
      return true;
    }
    return currentMaster().isPresent();
  }

  /** The master's pid, when one runs. */
  public synchronized Optional<Long> masterPid() {
    return currentMaster().map(ProcessHandle::pid);
  }

  private Optional<ProcessHandle> currentMaster() {
    if (master != null && master.isAlive()) {
      return Optional.of(master);
    }
    if (external) {
      return masterFromPidFile();
    }
    return Optional.empty();
  }

  /** The master named by the pid file, if that process is alive and is an Nginx master for us. */
  private Optional<ProcessHandle> masterFromPidFile() {
    if (pidFile == null || !Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    try {
      String text = Files.readString(pidFile).strip();
      if (!text.matches("\\d{1,10}")) {
        return Optional.empty();
      }
      Optional<ProcessHandle> h = ProcessHandle.of(Long.parseLong(text)).filter(ProcessHandle::isAlive);
      // A stale pid file may name a recycled pid: only trust an nginx master (for our prefix).
      return h.filter(p -> {
        String t = title(p.pid());
        return t.contains("nginx: master process") && (external || t.contains(prefix.toString()));
      });
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Managed: graceful quit (SIGQUIT, what {@code nginx -s quit} sends, without re-parsing a config
   * that may be broken), waits for the exit, kills what is left after the bound. External: no-op.
   */
  public synchronized void stop() {
    if (external) {
      return;
    }
    Optional<ProcessHandle> m = currentMaster().or(this::masterFromPidFile);
    if (m.isPresent()) {
      ProcessHandle h = m.get();
      List<ProcessHandle> workers = h.children().collect(Collectors.toList());
      signal("QUIT", h.pid());
      if (!awaitExit(h, STOP_BOUND)) {
        log.warn("nginx master {} did not quit within {}; killing it", h.pid(), STOP_BOUND);
        workers.forEach(ProcessHandle::destroyForcibly);
        h.destroyForcibly();
        awaitExit(h, STOP_BOUND);
      }
      workers.forEach(w -> awaitExit(w, STOP_BOUND));
    }
    if (child != null) {
      try {
        child.waitFor(STOP_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      child = null;
    }
    master = null;
  }

  private static boolean awaitExit(ProcessHandle h, Duration bound) {
    try {
      h.onExit().get(bound.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !h.isAlive();
    } catch (Exception e) {
      return !h.isAlive();
    }
  }

  /** For a JVM shutdown hook: stops a managed Nginx. */
  @Override
  public void close() {
    stop();
  }

  private Path errorLog() {
    return external ? null : prefix.resolve("logs/error.log");
  }

  String mainConfig() {
    String p = prefix.toString();
    return """
        # Written by Berth at every start; edits are lost. Routes: routes/*.conf, or the dynamic server below.
        worker_processes 1;
        worker_shutdown_timeout 5s;
        pid %1$s/logs/nginx.pid;
        error_log %1$s/logs/error.log warn;

        events {
            worker_connections 4096;
        }

        http {
            access_log %1$s/logs/access.log combined buffer=64k flush=1s;
            client_body_temp_path %1$s/temp/client_body;
            proxy_temp_path %1$s/temp/proxy;
            fastcgi_temp_path %1$s/temp/fastcgi;
            uwsgi_temp_path %1$s/temp/uwsgi;
            scgi_temp_path %1$s/temp/scgi;

            server_names_hash_max_size 4096;
            server_names_hash_bucket_size 128;
            server_tokens off;

        %2$s
            %8$s

            server {
                listen %3$s default_server;
                server_name _;
                default_type application/json;
                add_header %5$s %6$s always;
                location / {
                    return 404 '%4$s';
                }
            }

        %7$s
        }
        """.formatted(p, HTTP_COMMON.indent(4).stripTrailing(), gateway.listen(), NOT_FOUND_BODY,
        INSTANCE_HEADER, instanceToken, routes().indent(4).stripTrailing(), GatewayToken.nginxMap(gatewayToken));
  }

  /**
   * Route files, or (dynamic routing) the wildcard server and no route files: a file left by an
   * earlier run in files mode would name its host exactly and win over the wildcard.
   */
  private String routes() {
    return wildcard == null ? "include " + prefix + "/routes/*.conf;" : wildcard.render(gateway);
  }

  private record CommandResult(int exit, String output) {}

  private CommandResult run(List<String> cmd) {
    Path out = null;
    try {
      out = Files.createTempFile("berth-nginx", ".out");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return new CommandResult(-1, String.join(" ", cmd) + " timed out");
      }
      return new CommandResult(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new CommandResult(-1, "cannot run " + cmd.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CommandResult(-1, "interrupted");
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException ignored) {
          // a temp file left behind is harmless
        }
      }
    }
  }

  private void signal(String name, long pid) {
    String kill = Files.isExecutable(Path.of("/bin/kill")) ? "/bin/kill" : "kill";
    CommandResult r = run(List.of(kill, "-" + name, Long.toString(pid)));
    if (r.exit() != 0) {
      throw new NotRunningException("cannot signal nginx master " + pid + ": " + r.output().strip());
    }
  }

  static void writeAtomically(Path target, String content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    // Mode 600: the main config holds the gateway token (GatewayToken).
    Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static String tail(Path file) {
    if (file == null || !Files.isRegularFile(file)) {
      return "";
    }
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  private static String newToken() {
    return Long.toHexString(new java.security.SecureRandom().nextLong());
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
