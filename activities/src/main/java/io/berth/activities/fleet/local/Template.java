package io.berth.activities.fleet.local;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a local slot runs. The fleet starts {@link #argv} directly (never through a shell) in the
 * slot's directory with {@link Launch#env} as the whole environment, and the capacity workflow
 * probes {@link #probePath} before the slot joins the pool.
 */
public interface Template {
  /** The pool name; a DNS label. */
  String name();

  List<String> argv(Launch launch);

  /** HTTP path that answers 2xx once the workspace serves. */
  String probePath();

  /** Where and how one slot process runs: {@code env} already holds BERTH_SLOT_DIR, BERTH_PORT, BERTH_API_URL. */
  record Launch(int port, Path slotDir, Map<String, String> env) {}
}
