package io.berth.workflows.pools;

import io.berth.workflows.CapacityWorkflow;
import io.berth.workflows.capacity.WeekHours;
import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.SpareRules;
import io.berth.workflows.model.SpareSchedule;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The templates a deployment offers, each with its pool, read the same way by the worker and the
 * API: from the YAML file {@code BERTH_TEMPLATES_FILE} when set, else from the environment alone
 * (one pool, {@code BERTH_TEMPLATE}, as before the file existed). Environment variables override
 * the file: {@code BERTH_TEMPLATE} names the default template, {@code BERTH_SPARES},
 * {@code BERTH_MIN_HOSTS}, {@code BERTH_MAX_HOSTS}, {@code BERTH_SLOTS_PER_HOST} and
 * {@code BERTH_TEMPLATE_COMMAND} set the default template's pool, and
 * {@code BERTH_POOL_<NAME>_<SETTING>} (NAME upper-cased, {@code -} as {@code _}; SETTING one of
 * SPARES, MIN_HOSTS, MAX_HOSTS, SLOTS_PER_HOST) any template's. A bad file stops the process at
 * startup with a message that names the template and the setting.
 */
public record Pools(String defaultTemplate, List<Pool> pools) {
  public static final String FILE = "BERTH_TEMPLATES_FILE";
  /** A template's name: lower-case words, nothing a path, a URL, a file name or Redis would read. */
  public static final String NAME = "[a-z0-9][a-z0-9-]{0,31}";
  public static final Set<String> KINDS = Set.of("demo", "command", "code-server", "chromium");

  public Pools {
    pools = List.copyOf(pools);
  }

  public List<String> names() {
    return pools.stream().map(Pool::name).toList();
  }

  /** The pool of {@code name}, or null when no template of that name is offered. */
  public Pool get(String name) {
    return pools.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
  }

  public Pool defaultPool() {
    return get(defaultTemplate);
  }

  /** The workflow id of the controller of {@code template}'s pool. */
  public String controllerId(String template) {
    return CapacityWorkflow.idFor(template, defaultTemplate);
  }

  public static Pools fromEnv(Map<String, String> env) {
    String file = blankToNull(env.get(FILE));
    Map<String, Object> doc = file == null ? Map.of() : read(Path.of(file));
    Map<String, Object> templates = file == null ? Map.of() : map(doc.get("templates"), FILE + " " + file + ": templates");
    if (file != null && templates.isEmpty()) {
      throw new IllegalArgumentException(FILE + " " + file + ": 'templates' lists no template");
    }
    String dflt = blankToNull(env.get("BERTH_TEMPLATE"));
    if (dflt == null) {
      dflt = doc.get("default") != null ? doc.get("default").toString()
          : templates.isEmpty() ? "demo" : templates.keySet().iterator().next();
    }
    Map<String, Object> all = new LinkedHashMap<>(templates);
    if (file == null) {
      all.put(dflt, Map.of());
      for (String extra : blankToNull(env.get("BERTH_TEMPLATES")) == null ? new String[0]
          : env.get("BERTH_TEMPLATES").split(",")) {
        if (!extra.isBlank()) {
          all.putIfAbsent(extra.trim(), Map.of("spares", 0));
        }
      }
    } else if (!all.containsKey(dflt)) {
      throw new IllegalArgumentException("BERTH_TEMPLATE '" + dflt + "' is not in " + FILE + " " + file
          + " (it offers " + String.join(", ", all.keySet()) + ")");
    }
    List<Pool> pools = new ArrayList<>();
    for (Map.Entry<String, Object> e : all.entrySet()) {
      String name = e.getKey();
      String where = (file == null ? "template" : FILE + " " + file + ": template") + " '" + name + "'";
      pools.add(pool(name, name.equals(dflt), map(e.getValue(), where), env, where));
    }
    return new Pools(dflt, pools);
  }

  private static Pool pool(String name, boolean isDefault, Map<String, Object> y, Map<String, String> env,
      String where) {
    if (!name.matches(NAME)) {
      throw new IllegalArgumentException(where + " is not a template name (" + NAME + ")");
    }
    Settings s = new Settings(y, env, isDefault, "BERTH_POOL_" + name.toUpperCase(Locale.ROOT).replace('-', '_') + "_",
        where);
    String kind = s.string("kind", KINDS.contains(name) ? name : null);
    if (kind == null || !KINDS.contains(kind)) {
      throw new IllegalArgumentException(where + ": kind must be one of demo, command, code-server, chromium"
          + (kind == null ? " (the name is none of them, so say which)" : ", not '" + kind + "'"));
    }
    String command = isDefault && blankToNull(env.get("BERTH_TEMPLATE_COMMAND")) != null
        ? env.get("BERTH_TEMPLATE_COMMAND") : s.string("command", null);
    if (kind.equals("command") && (command == null || !command.contains("{port}"))) {
      throw new IllegalArgumentException(where + ": a command template needs 'command' with {port}");
    }
    int spares = s.integer("spares", "SPARES", "BERTH_SPARES", 1, 0);
    int min = s.integer("minHosts", "MIN_HOSTS", "BERTH_MIN_HOSTS", 0, 0);
    int max = s.integer("maxHosts", "MAX_HOSTS", "BERTH_MAX_HOSTS", 10, 1);
    int slots = s.integer("slotsPerHost", "SLOTS_PER_HOST", "BERTH_SLOTS_PER_HOST", 1, 1);
    if (min > max) {
      throw new IllegalArgumentException(where + ": minHosts " + min + " is above maxHosts " + max);
    }
    return new Pool(name, kind, command, s.string("probePath", null), spares, min, max, slots, rules(spares, y, where));
  }

  static SpareRules rules(int base, Map<String, Object> y, String where) {
    String zone = y.get("timeZone") == null ? null : y.get("timeZone").toString();
    ZoneId zoneId;
    try {
      zoneId = zone == null ? ZoneId.of("UTC") : ZoneId.of(zone);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(where + ": timeZone '" + zone + "' is not a time zone (e.g. Europe/Paris)");
    }
    List<SpareSchedule> schedules = new ArrayList<>();
    List<WeekHours> covered = new ArrayList<>();
    Object list = y.get("schedules");
    if (list != null && !(list instanceof List<?>)) {
      throw new IllegalArgumentException(where + ": schedules must be a list");
    }
    int i = 0;
    for (Object o : list == null ? List.of() : (List<?>) list) {
      Map<String, Object> m = map(o, where + ": schedule " + (i + 1));
      String name = m.get("name") == null ? "schedule " + (i + 1) : m.get("name").toString();
      String what = where + ": schedule '" + name + "'";
      WeekHours hours;
      try {
        hours = WeekHours.parse(m.get("cron") == null ? null : m.get("cron").toString());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(what + ": " + e.getMessage());
      }
      for (int j = 0; j < covered.size(); j++) {
        String overlap = covered.get(j).firstOverlap(hours);
        if (overlap != null) {
          throw new IllegalArgumentException(where + ": schedules '" + schedules.get(j).name() + "' and '" + name
              + "' overlap (both cover " + overlap + " " + zoneId + "); a time may have one schedule");
        }
      }
      covered.add(hours);
      schedules.add(new SpareSchedule(name, hours.cron(), nonNegative(m.get("spares"), what + ": spares")));
      i++;
    }
    DemandRule demand = null;
    if (y.get("demand") != null) {
      Map<String, Object> d = map(y.get("demand"), where + ": demand");
      Duration horizon = d.get("horizon") == null ? Duration.ofMinutes(5) : duration(d.get("horizon").toString(),
          where + ": demand.horizon");
      int max = d.get("max") == null ? 50 : nonNegative(d.get("max"), where + ": demand.max");
      demand = new DemandRule(horizon, max);
    }
    return new SpareRules(base, zoneId.getId(), schedules, demand);
  }

  /** A file setting, overridden by its environment variables. */
  private record Settings(Map<String, Object> y, Map<String, String> env, boolean isDefault, String prefix,
                          String where) {
    String string(String key, String dflt) {
      Object v = y.get(key);
      return v == null ? dflt : v.toString();
    }

    int integer(String key, String suffix, String defaultsVar, int dflt, int least) {
      String fromEnv = blankToNull(env.get(prefix + suffix));
      if (fromEnv == null && isDefault) {
        fromEnv = blankToNull(env.get(defaultsVar));
      }
      Object v = fromEnv != null ? fromEnv : y.get(key);
      if (v == null) {
        return dflt;
      }
      String what = where + ": " + key + (fromEnv != null ? " (from the environment)" : "");
      int n = integerOf(v, what);
      if (n < least) {
        throw new IllegalArgumentException(what + " must be at least " + least + ", got " + n);
      }
      return n;
    }
  }

  private static int nonNegative(Object v, String what) {
    if (v == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    int n = integerOf(v, what);
    if (n < 0) {
      throw new IllegalArgumentException(what + " must be 0 or more, got " + n);
    }
    return n;
  }

  private static int integerOf(Object v, String what) {
    try {
      return Integer.parseInt(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " must be a whole number, got '" + v + "'");
    }
  }

  /** {@code 90s}, {@code 5m}, {@code 1h}, or ISO-8601 ({@code PT5M}). */
  static Duration duration(String s, String what) {
    try {
      String t = s.trim().toLowerCase(Locale.ROOT);
      if (t.startsWith("pt")) {
        return Duration.parse(t);
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(what + " must be a duration such as 90s, 5m or 1h, got '" + s + "'");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String what) {
    if (o == null) {
      return Map.of();
    }
    if (!(o instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(what + " must be a mapping");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    ((Map<Object, Object>) o).forEach((k, v) -> out.put(String.valueOf(k), v));
    return out;
  }

  private static Map<String, Object> read(Path file) {
    try (Reader r = Files.newBufferedReader(file)) {
      Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
      return map(doc, FILE + " " + file);
    } catch (IOException e) {
      throw new IllegalArgumentException(FILE + " " + file + " cannot be read: " + e.getMessage());
    } catch (org.yaml.snakeyaml.error.YAMLException e) {
      throw new IllegalArgumentException(FILE + " " + file + " is not valid YAML: " + e.getMessage());
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
