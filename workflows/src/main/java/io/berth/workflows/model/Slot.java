package io.berth.workflows.model;

/**
 * One workspace place on a host. {@code slotId} is {@code <hostId>/<index>}; it is the member
 * stored in the Redis pool and the key of claims.
 */
public record Slot(String slotId, String hostId, int index, String address, int port, String template) {
  public static String idOf(String hostId, int index) {
    return hostId + "/" + index;
  }
}
