package io.berth.activities.fleet.local;

import java.nio.file.Path;

/** Template names as configuration spells them. */
public final class Templates {
  public static final String COMMAND = "command";

  private Templates() {}

  /**
   * What configuration says about templates (BERTH_TEMPLATE and friends).
   *
   * @param name {@code demo} (null means demo), {@code command}, {@code code-server} or {@code chromium}
   * @param command {@code command}: the command line with {@code {port}}
   * @param probePath {@code command}: the readiness path (null: {@code /})
   * @param codeServer {@code code-server}: the executable ({@code ./berth install code-server} writes one)
   * @param chromium {@code chromium}: an absolute path or a name on PATH; null tries the usual names
   */
  public record Settings(String name, String command, String probePath, Path codeServer, String chromium) {}

  /** {@code demo}, or {@code command} with its command line and probe path. */
  public static Template fromConfig(String name, String command, String probePath) {
    return fromConfig(new Settings(name, command, probePath, null, null));
  }

  /**
   * A template offered as {@code pool}: {@code s.name()} is its kind. A {@code command} template
   * takes the pool's name itself; a built-in kind under another name runs as that kind does and
   * names its hosts and slots by the pool.
   */
  public static Template forPool(String pool, Settings s) {
    if (COMMAND.equals(s.name())) {
      return CommandTemplate.parse(pool, s.command(), s.probePath());
    }
    Template t = fromConfig(s);
    return t.name().equals(pool) ? t : new NamedTemplate(pool, t);
  }

  public static Template fromConfig(Settings s) {
    String name = s.name() == null ? DemoTemplate.NAME : s.name();
    return switch (name) {
      case DemoTemplate.NAME -> DemoTemplate.ofThisJvm();
      case COMMAND -> CommandTemplate.parse(COMMAND, s.command(), s.probePath());
      case CodeServerTemplate.NAME -> new CodeServerTemplate(s.codeServer());
      case ChromiumTemplate.NAME -> ChromiumTemplate.find(s.chromium());
      default -> throw new IllegalArgumentException("unknown template " + name + " (demo, command, code-server, chromium)");
    };
  }

  /** Where {@code ./berth install code-server} puts the executable by default. */
  public static Path defaultCodeServer(Path stateDir) {
    return stateDir.resolve("tools").resolve("code-server").resolve("bin").resolve("code-server");
  }
}
