package io.berth.workflows.model;

import java.util.List;

/** The Redis side of capacity: spare slot ids in the pool, quarantined slot ids, users with a session. */
public record PoolState(List<String> spares, List<String> quarantined, List<String> users) {
  public int sessions() {
    return users.size();
  }
}
