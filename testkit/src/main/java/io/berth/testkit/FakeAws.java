package io.berth.testkit;

import static io.berth.testkit.AwsWire.ASG_NS;
import static io.berth.testkit.AwsWire.EC2_NS;
import static io.berth.testkit.AwsWire.el;
import static io.berth.testkit.AwsWire.list;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.testkit.AwsWire.Failure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A small stateful stand-in for EC2 (ec2 query protocol), Auto Scaling (query protocol) and
 * Route 53 (REST XML) on 127.0.0.1, spoken on the wire as the AWS SDK v2 sends it. Point every
 * client's endpointOverride at {@link #endpoint()}. The group launches instances with loopback
 * addresses when desired exceeds its size and drops unprotected ones when it falls below.
 * Every request is recorded; faults can be injected per action.
 */
public final class FakeAws implements AutoCloseable {
  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");
  private static final Pattern TAG_VALUE = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0,256}");
  private static final int PROTECTION_BATCH = 50;

  /** One request as received: service ec2|autoscaling|route53, the action, its parameters, the raw body. */
  public record Call(String service, String action, Map<String, String> params, String body) {}

  /** An instance as DescribeInstances and DescribeAutoScalingGroups would show it. */
  public record Instance(String id, String group, String privateAddress, String publicAddress, String lifecycle,
                         String ec2State, boolean protectedFromScaleIn, Map<String, String> tags) {}

  /** A Route 53 record set (simple routing, one or more values). */
  public record RecordSet(String name, String type, long ttl, List<String> values) {}

  private record Fault(String action, int status, String code, String message) {}

  private static final class Vm {
    final String id;
    final String group;
    final String privateAddress;
    final String publicAddress;
    final long launchedAt = System.currentTimeMillis();
    final Map<String, String> tags = new TreeMap<>();
    String lifecycle = "Pending";
    String ec2State = "pending";
    boolean protectedFromScaleIn;

    Vm(String id, String group, int n) {
      this.id = id;
      this.group = group;
      this.privateAddress = "127.0." + (n / 250) + "." + (2 + n % 250);
      this.publicAddress = "127.1." + (n / 250) + "." + (2 + n % 250);
    }

    Instance view() {
      return new Instance(id, group, privateAddress, publicAddress, lifecycle, ec2State, protectedFromScaleIn,
          Map.copyOf(tags));
    }
  }

  private static final class Group {
    final String name;
    int min;
    int max;
    int desired;
    final List<Vm> members = new ArrayList<>();

    Group(String name, int min, int max, int desired) {
      this.name = name;
      this.min = min;
      this.max = max;
      this.desired = desired;
    }
  }

  private final HttpServer server;
  private final Map<String, Group> groups = new TreeMap<>();
  private final List<Vm> vms = new ArrayList<>();
  private final FakeRoute53 route53 = new FakeRoute53();
  private final List<Call> calls = new ArrayList<>();
  private final Deque<Fault> faults = new ArrayDeque<>();
  private Duration launchDelay = Duration.ZERO;
  private String launchHook;
  private int pageSize = 1000;
  private Consumer<Instance> onLaunch = i -> {};
  private Consumer<Instance> onTerminate = i -> {};
  private Consumer<Instance> onTags = i -> {};
  private int launched;

  private FakeAws() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public static FakeAws start() {
    try {
      return new FakeAws();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  // ---- setup, inspection and faults ------------------------------------------------------------

  /** A group that launches {@code desired} instances at once. */
  public synchronized FakeAws group(String name, int min, int max, int desired) {
    groups.put(name, new Group(name, min, max, desired));
    converge(groups.get(name));
    return this;
  }

  /** A hosted zone for {@code domain} (names outside it are refused, as Route 53 does). */
  public synchronized FakeAws zone(String id, String domain) {
    route53.zone(id, domain);
    return this;
  }

  /** New instances stay Pending this long before InService. */
  public synchronized FakeAws launchDelay(Duration delay) {
    launchDelay = delay;
    return this;
  }

  /**
   * A launch lifecycle hook of this name: new instances wait in {@code Pending:Wait} (EC2
   * {@code running}) after their launch delay until CompleteLifecycleAction names them.
   */
  public synchronized FakeAws launchHook(String name) {
    launchHook = name;
    return this;
  }

  /** At most this many items per Describe page, whatever the caller asks for. */
  public synchronized FakeAws pageSize(int n) {
    pageSize = n;
    return this;
  }

  /**
   * Called for each instance the group launches, e.g. to start a template on its address. Callbacks
   * run on the server thread holding the fake's lock: they may call the fake's Java methods, not
   * send it requests.
   */
  public synchronized FakeAws onLaunch(Consumer<Instance> callback) {
    onLaunch = callback;
    return this;
  }

  public synchronized FakeAws onTerminate(Consumer<Instance> callback) {
    onTerminate = callback;
    return this;
  }

  /**
   * Called after CreateTags with the tagged instance, e.g. to act as the instance agent: on a
   * {@code Recycle} tag, restart the template, then {@link #untag} it.
   */
  public synchronized FakeAws onTags(Consumer<Instance> callback) {
    onTags = callback;
    return this;
  }

  /** The next {@code n} calls of {@code action} (null: any) fail with this status and code. */
  public synchronized FakeAws failNext(String action, int n, int status, String code, String message) {
    for (int i = 0; i < n; i++) {
      faults.add(new Fault(action, status, code, message));
    }
    return this;
  }

  /** The next {@code n} calls of {@code action} (null: any) are throttled as each service does it. */
  public synchronized FakeAws throttleNext(String action, int n) {
    return failNext(action, n, 0, "Throttling", "Rate exceeded");
  }

  public synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  public synchronized List<Call> calls(String action) {
    return calls.stream().filter(c -> c.action().equals(action)).toList();
  }

  public synchronized Instance instance(String id) {
    return vms.stream().filter(v -> v.id.equals(id)).findFirst().map(Vm::view).orElse(null);
  }

  /** Group members (not yet terminated) in launch order. */
  public synchronized List<Instance> members(String group) {
    tick();
    return groups.get(group).members.stream().map(Vm::view).toList();
  }

  public synchronized int desired(String group) {
    return groups.get(group).desired;
  }

  public synchronized void setLifecycle(String id, String lifecycle, String ec2State) {
    Vm vm = vm(id);
    vm.lifecycle = lifecycle;
    vm.ec2State = ec2State;
  }

  public synchronized void tag(String id, String key, String value) {
    vm(id).tags.put(key, value);
  }

  public synchronized void untag(String id, String key) {
    vm(id).tags.remove(key);
  }

  /** The instance disappears without the group noticing yet (EC2 no longer knows it). */
  public synchronized void vanish(String id) {
    vms.removeIf(v -> v.id.equals(id));
    groups.values().forEach(g -> g.members.removeIf(v -> v.id.equals(id)));
  }

  public synchronized Map<String, RecordSet> records(String zoneId) {
    return route53.records(zoneId);
  }

  public synchronized void putRecord(String zoneId, RecordSet r) {
    route53.put(zoneId, r);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // ---- dispatch --------------------------------------------------------------------------------

  private synchronized void handle(HttpExchange ex) throws IOException {
    String service = "?";
    try (ex) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = ex.getRequestURI().getPath();
      Map<String, String> params;
      String action;
      if (path.startsWith("/2013-04-01/")) {
        service = "route53";
        params = AwsWire.form(ex.getRequestURI().getRawQuery());
        action = "POST".equals(ex.getRequestMethod()) ? "ChangeResourceRecordSets" : "ListResourceRecordSets";
      } else {
        params = AwsWire.form(body);
        service = "2016-11-15".equals(params.get("Version")) ? "ec2" : "autoscaling";
        action = params.getOrDefault("Action", "?");
      }
      calls.add(new Call(service, action, params, body));
      tick();
      String xml;
      try {
        injectFault(service, action);
        xml = switch (service) {
          case "ec2" -> ec2(action, params);
          case "autoscaling" -> autoScaling(action, params);
          default -> route53.handle(action, path, params, body);
        };
        AwsWire.reply(ex, 200, xml);
      } catch (Failure e) {
        AwsWire.reply(ex, e.status, AwsWire.errorXml(service, e.code, e.getMessage()));
      }
    } catch (RuntimeException e) {
      AwsWire.reply(ex, 500, AwsWire.errorXml(service, "InternalFailure", String.valueOf(e)));
    }
  }

  private void injectFault(String service, String action) {
    Fault f = faults.stream().filter(x -> x.action() == null || x.action().equals(action)).findFirst().orElse(null);
    if (f == null) {
      return;
    }
    faults.remove(f);
    if (f.status() == 0) {
      throw "ec2".equals(service) ? new Failure(503, "RequestLimitExceeded", "Request limit exceeded.")
          : new Failure(400, "Throttling", f.message());
    }
    throw new Failure(f.status(), f.code(), f.message());
  }

  // ---- EC2 -------------------------------------------------------------------------------------

  private String ec2(String action, Map<String, String> p) {
    return switch (action) {
      case "DescribeInstances" -> describeInstances(p);
      case "CreateTags" -> createTags(p);
      case "DeleteTags" -> deleteTags(p);
      default -> throw new Failure(400, "InvalidAction", "unsupported " + action);
    };
  }

  private String describeInstances(Map<String, String> p) {
    List<String> ids = list(p, "InstanceId.");
    ids.forEach(this::knownInstance);
    List<Vm> matching = vms.stream().filter(v -> ids.isEmpty() || ids.contains(v.id))
        .filter(v -> matchesFilters(v, p)).toList();
    int from = Integer.parseInt(p.getOrDefault("NextToken", "0"));
    int size = Math.min(pageSize, Integer.parseInt(p.getOrDefault("MaxResults", "1000")));
    StringBuilder x = new StringBuilder("<reservationSet>");
    for (Vm v : matching.subList(from, Math.min(matching.size(), from + size))) {
      x.append("<item><reservationId>r-").append(v.id.substring(2)).append("</reservationId><instancesSet><item>")
          .append(el("instanceId", v.id)).append("<instanceState>").append(el("code", stateCode(v.ec2State)))
          .append(el("name", v.ec2State)).append("</instanceState>").append(el("privateIpAddress", v.privateAddress))
          .append(el("ipAddress", v.publicAddress))
          .append(el("launchTime", Instant.ofEpochMilli(v.launchedAt).toString())).append("<tagSet>");
      v.tags.forEach((k, val) -> x.append("<item>").append(el("key", k)).append(el("value", val)).append("</item>"));
      x.append("</tagSet></item></instancesSet></item>");
    }
    x.append("</reservationSet>");
    if (from + size < matching.size()) {
      x.append(el("nextToken", String.valueOf(from + size)));
    }
    return ec2Response("DescribeInstances", x.toString());
  }

  private boolean matchesFilters(Vm v, Map<String, String> p) {
    for (int i = 1; p.containsKey("Filter." + i + ".Name"); i++) {
      String name = p.get("Filter." + i + ".Name");
      List<String> values = list(p, "Filter." + i + ".Value.");
      String actual = name.startsWith("tag:") ? v.tags.get(name.substring(4))
          : "instance-state-name".equals(name) ? v.ec2State : null;
      if (!values.contains(actual)) {
        return false;
      }
    }
    return true;
  }

  private String createTags(Map<String, String> p) {
    List<Vm> targets = list(p, "ResourceId.").stream().map(this::knownInstance).toList();
    Map<String, String> tags = new LinkedHashMap<>();
    for (int i = 1; p.containsKey("Tag." + i + ".Key"); i++) {
      String value = p.getOrDefault("Tag." + i + ".Value", "");
      if (!TAG_VALUE.matcher(value).matches()) {
        throw new Failure(400, "InvalidParameterValue", "Value (" + value + ") for parameter value is invalid.");
      }
      tags.put(p.get("Tag." + i + ".Key"), value);
    }
    targets.forEach(v -> v.tags.putAll(tags));
    targets.forEach(v -> onTags.accept(v.view()));
    return ec2Response("CreateTags", el("return", "true"));
  }

  /** A tag given with a value is deleted only while it has that value, as EC2 does. */
  private String deleteTags(Map<String, String> p) {
    List<Vm> targets = list(p, "ResourceId.").stream().map(this::knownInstance).toList();
    for (int i = 1; p.containsKey("Tag." + i + ".Key"); i++) {
      String key = p.get("Tag." + i + ".Key");
      String value = p.get("Tag." + i + ".Value");
      targets.forEach(v -> {
        if (value == null || value.equals(v.tags.get(key))) {
          v.tags.remove(key);
        }
      });
    }
    return ec2Response("DeleteTags", el("return", "true"));
  }

  private Vm knownInstance(String id) {
    if (!INSTANCE_ID.matcher(id).matches()) {
      throw new Failure(400, "InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"");
    }
    return vms.stream().filter(v -> v.id.equals(id)).findFirst().orElseThrow(
        () -> new Failure(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"));
  }

  private static String ec2Response(String action, String inner) {
    return "<" + action + "Response xmlns=\"" + EC2_NS + "\"><requestId>" + UUID.randomUUID()
        + "</requestId>" + inner + "</" + action + "Response>";
  }

  // ---- Auto Scaling ----------------------------------------------------------------------------

  private String autoScaling(String action, Map<String, String> p) {
    return switch (action) {
      case "DescribeAutoScalingGroups" -> describeGroups(p);
      case "SetDesiredCapacity" -> setDesired(p);
      case "SetInstanceProtection" -> setProtection(p);
      case "TerminateInstanceInAutoScalingGroup" -> terminate(p);
      case "CompleteLifecycleAction" -> completeLifecycleAction(p);
      default -> throw new Failure(400, "InvalidAction", "unsupported " + action);
    };
  }

  private String describeGroups(Map<String, String> p) {
    List<String> names = list(p, "AutoScalingGroupNames.member.");
    List<Group> matching = groups.values().stream().filter(g -> names.isEmpty() || names.contains(g.name)).toList();
    int from = Integer.parseInt(p.getOrDefault("NextToken", "0"));
    int size = Math.min(pageSize, Integer.parseInt(p.getOrDefault("MaxRecords", "100")));
    StringBuilder x = new StringBuilder("<AutoScalingGroups>");
    for (Group g : matching.subList(from, Math.min(matching.size(), from + size))) {
      x.append("<member>").append(el("AutoScalingGroupName", g.name)).append(el("MinSize", g.min))
          .append(el("MaxSize", g.max)).append(el("DesiredCapacity", g.desired)).append("<Instances>");
      for (Vm v : g.members) {
        x.append("<member>").append(el("InstanceId", v.id)).append(el("AvailabilityZone", "us-east-1a"))
            .append(el("LifecycleState", v.lifecycle)).append(el("HealthStatus", "Healthy"))
            .append(el("ProtectedFromScaleIn", v.protectedFromScaleIn)).append("</member>");
      }
      x.append("</Instances></member>");
    }
    x.append("</AutoScalingGroups>");
    if (from + size < matching.size()) {
      x.append(el("NextToken", String.valueOf(from + size)));
    }
    return queryResponse("DescribeAutoScalingGroups", x.toString());
  }

  private String setDesired(Map<String, String> p) {
    Group g = group(p.get("AutoScalingGroupName"));
    int desired = Integer.parseInt(p.get("DesiredCapacity"));
    if (desired > g.max || desired < g.min) {
      throw new Failure(400, "ValidationError", "New SetDesiredCapacity value " + desired + " is "
          + (desired > g.max ? "above max value " + g.max : "below min value " + g.min) + " for the AutoScalingGroup.");
    }
    g.desired = desired;
    converge(g);
    return queryResponse("SetDesiredCapacity", null);
  }

  private String setProtection(Map<String, String> p) {
    Group g = group(p.get("AutoScalingGroupName"));
    List<String> ids = list(p, "InstanceIds.member.");
    if (ids.size() > PROTECTION_BATCH) {
      throw new Failure(400, "ValidationError", "The number of instance ids that may be passed in is limited to 50.");
    }
    List<Vm> targets = new ArrayList<>();
    for (String id : ids) {
      targets.add(g.members.stream().filter(v -> v.id.equals(id)).findFirst().orElseThrow(() -> new Failure(400,
          "ValidationError", "The instance " + id + " is not part of Auto Scaling group " + g.name + ".")));
    }
    targets.forEach(v -> v.protectedFromScaleIn = Boolean.parseBoolean(p.get("ProtectedFromScaleIn")));
    return queryResponse("SetInstanceProtection", "");
  }

  private String terminate(Map<String, String> p) {
    String id = p.get("InstanceId");
    Group g = groups.values().stream().filter(x -> x.members.stream().anyMatch(v -> v.id.equals(id))).findFirst()
        .orElseThrow(() -> new Failure(400, "ValidationError",
            "Instance Id not found - No managed instance found for instance ID: " + id));
    boolean decrement = Boolean.parseBoolean(p.get("ShouldDecrementDesiredCapacity"));
    if (decrement && g.desired <= g.min) {
      throw new Failure(400, "ValidationError", "Currently, desiredSize equals minSize (" + g.min + "). Terminating"
          + " instance without replacement will violate group's min size constraint. Either set"
          + " shouldDecrementDesiredCapacity flag to false or lower group's min size.");
    }
    Vm vm = vm(id);
    if (decrement) {
      g.desired--;
    }
    kill(g, vm);
    converge(g);
    return queryResponse("TerminateInstanceInAutoScalingGroup", "<Activity>" + el("ActivityId",
        UUID.randomUUID()) + el("AutoScalingGroupName", g.name) + el("Description", "Terminating " + id)
        + el("Cause", "terminated by request") + el("StartTime", Instant.now()) + el("StatusCode", "InProgress")
        + el("Progress", 0) + "</Activity>");
  }

  /** CONTINUE puts an instance held by the launch hook in service; ABANDON terminates it. */
  private String completeLifecycleAction(Map<String, String> p) {
    Group g = group(p.get("AutoScalingGroupName"));
    String id = p.get("InstanceId");
    Vm vm = g.members.stream().filter(v -> v.id.equals(id)).findFirst().orElse(null);
    if (vm == null || !"Pending:Wait".equals(vm.lifecycle) || !p.get("LifecycleHookName").equals(launchHook)) {
      throw new Failure(400, "ValidationError", "No active Lifecycle Action found with instance ID " + id);
    }
    if ("CONTINUE".equals(p.get("LifecycleActionResult"))) {
      vm.lifecycle = "InService";
    } else {
      kill(g, vm);
    }
    return queryResponse("CompleteLifecycleAction", "");
  }

  /** The group's launches and scale-in: fill up to desired, then drop unprotected members, oldest first. */
  private void converge(Group g) {
    while (g.members.size() < g.desired) {
      Vm vm = new Vm(String.format("i-%017x", 0xbe700000L + launched), g.name, launched++);
      vm.tags.put("aws:autoscaling:groupName", g.name);
      vms.add(vm);
      g.members.add(vm);
      tick();
      onLaunch.accept(vm.view());
    }
    List<Vm> removable = g.members.stream().filter(v -> !v.protectedFromScaleIn)
        .sorted(Comparator.comparingLong(v -> v.launchedAt)).toList();
    for (int i = 0; g.members.size() > g.desired && i < removable.size(); i++) {
      kill(g, removable.get(i));
    }
  }

  private void kill(Group g, Vm vm) {
    g.members.remove(vm);
    vm.lifecycle = "Terminated";
    vm.ec2State = "terminated";
    onTerminate.accept(vm.view());
  }

  /** Pending instances whose launch delay has passed go InService. */
  private void tick() {
    long now = System.currentTimeMillis();
    for (Vm v : vms) {
      if ("Pending".equals(v.lifecycle) && now - v.launchedAt >= launchDelay.toMillis()) {
        v.lifecycle = launchHook == null ? "InService" : "Pending:Wait";
        v.ec2State = "running";
      }
    }
  }

  private Group group(String name) {
    Group g = groups.get(name);
    if (g == null) {
      throw new Failure(400, "ValidationError", "AutoScalingGroup name not found - " + name);
    }
    return g;
  }

  private Vm vm(String id) {
    return vms.stream().filter(v -> v.id.equals(id)).findFirst().orElseThrow();
  }

  private static String queryResponse(String action, String result) {
    String inner = result == null ? "" : "<" + action + "Result>" + result + "</" + action + "Result>";
    return "<" + action + "Response xmlns=\"" + ASG_NS + "\">" + inner + "<ResponseMetadata><RequestId>"
        + UUID.randomUUID() + "</RequestId></ResponseMetadata></" + action + "Response>";
  }


  private static String stateCode(String state) {
    return String.valueOf(List.of("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
        .indexOf(state) * 16);
  }
}
