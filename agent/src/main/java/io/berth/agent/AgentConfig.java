package io.berth.agent;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The agent's settings, from the environment (systemd's {@code EnvironmentFile}); the names match
 * the worker's where both sides must agree (template, ports, slots, group, region, endpoint).
 *
 * @param listenHost the private address to serve credentials on; null: the instance's
 *     {@code local-ipv4} from the metadata service
 * @param allowFrom source networks allowed to hand over credentials; empty: any (the security group decides)
 * @param startCommand, stopCommand argv run to start or stop slot {@code {slot}}'s template (no shell)
 * @param lifecycleHook the launch lifecycle hook to complete; null: none
 * @param group the Auto Scaling group; null: the instance's {@code aws:autoscaling:groupName} tag
 */
record AgentConfig(String listenHost, int listenPort, List<Cidr> allowFrom, URI apiUrl, Path stateDir,
                   int slots, String template, String templateHost, int templatePort, String healthPath,
                   String homePattern, List<String> startCommand, List<String> stopCommand, URI metadataUrl,
                   URI awsEndpoint, String region, String lifecycleHook, String group,
                   Duration heartbeatInterval, Duration tagInterval, Duration templateTimeout) {

  static final List<String> TEMPLATES = List.of("code-server", "chromium", "command", "demo");

  static AgentConfig fromEnv(Map<String, String> env) {
    Settings s = new Settings(env);
    String template = s.get("BERTH_TEMPLATE", "code-server");
    if (!TEMPLATES.contains(template)) {
      throw new IllegalArgumentException("BERTH_TEMPLATE must be one of " + TEMPLATES + ", not " + template);
    }
    String[] listen = s.get("BERTH_AGENT_LISTEN", ":9100").split(":", 2);
    if (listen.length != 2 || !listen[1].matches("\\d{1,5}")) {
      throw new IllegalArgumentException("BERTH_AGENT_LISTEN must be [address]:port, e.g. :9100 or 10.0.2.15:9100");
    }
    String unit = "berth-" + template + "@{slot}.service";
    return new AgentConfig(
        listen[0].isBlank() ? null : listen[0], Integer.parseInt(listen[1]),
        Cidr.list(s.get("BERTH_AGENT_ALLOW_FROM", "")),
        URI.create(s.required("BERTH_API_URL").replaceAll("/+$", "")),
        Path.of(s.get("BERTH_AGENT_STATE_DIR", "/run/berth")),
        s.positive("BERTH_SLOTS_PER_HOST", 1), template,
        s.get("BERTH_AGENT_TEMPLATE_HOST", "127.0.0.1"), s.positive("BERTH_AWS_TEMPLATE_PORT", 8080),
        s.get("BERTH_TEMPLATE_PROBE_PATH", defaultHealthPath(template)),
        s.get("BERTH_AGENT_HOME", "/home/berth{slot}"),
        words(s.get("BERTH_AGENT_START", "systemctl start " + unit)),
        words(s.get("BERTH_AGENT_STOP", "systemctl stop " + unit)),
        URI.create(s.get("BERTH_AGENT_METADATA_URL", "http://169.254.169.254")),
        s.optional("BERTH_AWS_ENDPOINT") == null ? null : URI.create(s.optional("BERTH_AWS_ENDPOINT")),
        s.optional("BERTH_AWS_REGION"), s.optional("BERTH_AGENT_LIFECYCLE_HOOK"), s.optional("BERTH_AWS_ASG"),
        s.duration("BERTH_AGENT_HEARTBEAT_INTERVAL", "PT30S"), s.duration("BERTH_AGENT_TAG_INTERVAL", "PT5S"),
        s.duration("BERTH_AGENT_TEMPLATE_TIMEOUT", "PT3M"));
  }

  static String defaultHealthPath(String template) {
    return switch (template) {
      case "chromium" -> "/json/version";
      case "command" -> "/";
      default -> "/healthz";
    };
  }

  int port(int slot) {
    return templatePort + slot;
  }

  Path home(int slot) {
    return Path.of(homePattern.replace("{slot}", String.valueOf(slot)));
  }

  /** The tag Berth sets to recycle a slot: {@code Recycle} with one slot per instance, {@code Recycle-<i>} with more. */
  String recycleTag(int slot) {
    return slots == 1 ? "Recycle" : "Recycle-" + slot;
  }

  private static List<String> words(String command) {
    return Arrays.stream(command.trim().split("\\s+")).toList();
  }

  /** Environment lookups with defaults and messages that name the variable. */
  private record Settings(Map<String, String> env) {
    String optional(String name) {
      String v = env.get(name);
      return v == null || v.isBlank() ? null : v.trim();
    }

    String get(String name, String fallback) {
      String v = optional(name);
      return v == null ? fallback : v;
    }

    String required(String name) {
      String v = optional(name);
      if (v == null) {
        throw new IllegalArgumentException(name + " is required (e.g. https://berth.example.com, where the API listens)");
      }
      return v;
    }

    int positive(String name, int fallback) {
      String raw = get(name, String.valueOf(fallback));
      if (!raw.matches("\\d{1,6}")) {
        throw new IllegalArgumentException(name + " must be a number, not " + raw);
      }
      int v = Integer.parseInt(raw);
      if (v < 1) {
        throw new IllegalArgumentException(name + " must be at least 1, not " + v);
      }
      return v;
    }

    Duration duration(String name, String fallback) {
      try {
        return Duration.parse(get(name, fallback));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(name + " must be an ISO-8601 duration such as PT30S, not " + get(name, fallback));
      }
    }
  }
}
