package io.berth.activities.fleet.local;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a local slot runs. The fleet starts {@link #argv} directly (never through a shell) in the
 * slot's directory with {@link Launch#env} as the whole environment, and the capacity workflow
 * probes {@link #probePath} before the slot joins the pool.
 */
public interface Template {
  /** The pool name; a DNS label. */
  String name();

  List<String> argv(Launch launch);

  /** Makes what the process expects to find (directories) before {@link #argv} runs. */
  default void prepare(Launch launch) throws java.io.IOException {}

  /** HTTP path that answers 2xx once the workspace serves. */
  String probePath();

  /**
   * Whether the process keeps state of its owner that must outlive the allocation (settings,
   * files). Such a process reads its directories when it starts, and a spare starts before it has
   * an owner: the fleet restarts it with the owner's directory ({@link Launch#userDir}) when the
   * slot is tagged, and ownerless when it is untagged or recycled.
   */
  default boolean keepsUserState() {
    return false;
  }

  /**
   * How the fleet tells that someone uses a workspace which cannot post heartbeats itself; empty
   * when the template reports its own activity (demo) or has no way to show it.
   */
  default Optional<ActivitySignal> activitySignal() {
    return Optional.empty();
  }

  /**
   * Whether the template's user can run code of their choosing (a terminal, a command, a browser
   * with DevTools): such a slot runs in a {@link SlotBox} where the machine allows it, and is
   * refused where it does not unless the operator trusts every workspace user (docs/SECURITY.md).
   */
  default boolean runsUserCode() {
    return true;
  }

  /** {@link #argv} for a process inside a {@link SlotBox} (not root, namespaces allowed). */
  default List<String> boxedArgv(Launch launch) {
    return argv(launch);
  }

  /**
   * Paths outside /usr, /etc and /opt the process reads (an install directory): a box shows them
   * read-only. Absolute paths of existing files among the argv words are added by the fleet.
   */
  default List<Path> readOnlyPaths() {
    return List.of();
  }

  /**
   * Where and how one slot process runs. {@code env} already holds HOME, BERTH_SLOT_DIR,
   * BERTH_PORT, BERTH_API_URL. {@code userDir} is the owner's own directory, kept across
   * allocations (only for {@link #keepsUserState()} templates with an owner; otherwise null).
   * {@code scratchDir} is a fresh empty directory of this process only, deleted with the slot's
   * other files when the slot is recycled.
   */
  record Launch(int port, Path slotDir, Path userDir, Path scratchDir, Map<String, String> env) {
    public Launch(int port, Path slotDir, Map<String, String> env) {
      this(port, slotDir, null, slotDir.resolve("scratch"), env);
    }
  }
}
