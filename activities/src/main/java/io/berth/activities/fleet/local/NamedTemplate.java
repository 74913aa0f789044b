package io.berth.activities.fleet.local;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A built-in template offered under a pool name of its own (a templates file's {@code big:
 * {kind: demo}}): it runs as {@code kind} does, and its hosts and slots carry {@code name}.
 */
record NamedTemplate(String name, Template kind) implements Template {
  @Override
  public List<String> argv(Launch launch) {
    return kind.argv(launch);
  }

  @Override
  public void prepare(Launch launch) throws IOException {
    kind.prepare(launch);
  }

  @Override
  public String probePath() {
    return kind.probePath();
  }

  @Override
  public boolean keepsUserState() {
    return kind.keepsUserState();
  }

  @Override
  public Optional<ActivitySignal> activitySignal() {
    return kind.activitySignal();
  }

  @Override
  public boolean runsUserCode() {
    return kind.runsUserCode();
  }

  @Override
  public List<String> boxedArgv(Launch launch) {
    return kind.boxedArgv(launch);
  }

  @Override
  public List<Path> readOnlyPaths() {
    return kind.readOnlyPaths();
  }
}
