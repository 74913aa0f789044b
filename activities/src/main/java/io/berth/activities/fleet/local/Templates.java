package io.berth.activities.fleet.local;

/** Template names as configuration spells them. */
public final class Templates {
  private Templates() {}

  /**
   * {@code demo}, or {@code command} with its command line and probe path. {@code code-server}
   * and {@code chromium} are named here so configuration can say them; they are not built yet.
   */
  public static Template fromConfig(String name, String command, String probePath) {
    return switch (name == null ? DemoTemplate.NAME : name) {
      case DemoTemplate.NAME -> DemoTemplate.ofThisJvm();
      case "command" -> CommandTemplate.parse("command", command, probePath);
      case "code-server", "chromium" -> throw new IllegalArgumentException("template " + name + " is not available yet");
      default -> throw new IllegalArgumentException("unknown template " + name + " (demo, command)");
    };
  }
}
