package io.berth.activities.fleet.local;

import java.nio.file.Path;
import java.util.List;

/**
 * The built-in page ({@link DemoWorkspace}) in a small JVM of its own, on the launching JVM's
 * class path unless one is given.
 */
public record DemoTemplate(String classpath) implements Template {
  public static final String NAME = "demo";

  public DemoTemplate {
    if (classpath == null || classpath.isBlank()) {
      throw new IllegalArgumentException("demo template needs a class path");
    }
  }

  public static DemoTemplate ofThisJvm() {
    return new DemoTemplate(System.getProperty("java.class.path"));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> argv(Launch launch) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // Small and quick to start: many of these share a laptop.
    return List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx24m", "-Xss256k", "-XX:-UsePerfData",
        "-cp", classpath, DemoWorkspace.class.getName());
  }

  @Override
  public String probePath() {
    return "/healthz";
  }

  /** Berth's own page: its user runs nothing of their choosing, so it is not boxed (docs/SECURITY.md). */
  @Override
  public boolean runsUserCode() {
    return false;
  }
}
