package io.berth.activities.fleet.local;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Signs of use of a running slot that the workspace cannot report itself. {@link ActivityWatcher}
 * reads every live slot now and then; a reading whose {@code state} differs from the previous
 * reading of the same process, or that says {@code inUse}, counts as activity of the owner.
 */
public interface ActivitySignal {
  Reading read(Watched slot) throws IOException;

  /**
   * @param state something that changes when the workspace is used (a file's mtime, a digest of open pages)
   * @param inUse someone is connected right now, whatever changed
   */
  record Reading(String state, boolean inUse) {}

  /** A live slot as the watcher sees it; {@code userDir} as in {@link Template.Launch}. */
  record Watched(String slotId, long pid, int port, Path slotDir, Path userDir) {}
}
