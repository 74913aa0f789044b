package io.berth.workflows;

/**
 * The Redis read model's key names, shared by the worker's activities and the API. Temporal is
 * the source of truth; everything here can be rebuilt from the workflows and the fleet.
 */
public record RedisKeys(String prefix) {
  public static final String DEFAULT_PREFIX = "berth:";

  /** Hash: requestId, user, workspaceId, label, url, slotId, hostId, address, port, template, state, allocatedAt, idleDeadline, expiresAt, idleTimeoutMs, lastSeen. */
  public String workspace(String user) {
    return prefix + "ws:" + user;
  }

  /** Sorted set: user → last activity (epoch ms). */
  public String pings() {
    return prefix + "ws:pings";
  }

  /** Set of users that have a session. */
  public String users() {
    return prefix + "ws:users";
  }

  /**
   * Sorted set: a user's workspace keys (default and named) → until when the slot is held: a
   * pending reservation the API made for an allocation expires (epoch ms), a stored session holds
   * it ({@code +inf}) until the session is deleted. The per-user limit is its size.
   */
  public String userWorkspaces(String user) {
    return prefix + "user:" + user;
  }

  /** Set of spare slot ids of a template. */
  public String pool(String template) {
    return prefix + "pool:" + template;
  }

  /** Hash describing a slot: hostId, index, address, port, template. */
  public String slot(String slotId) {
    return prefix + "slot:" + slotId;
  }

  /** String: the slot id a request claimed. */
  public String claim(String requestId) {
    return prefix + "claim:" + requestId;
  }

  /** Set of quarantined slot ids. */
  public String quarantine() {
    return prefix + "quarantine";
  }

  /** Hash {user, workspaceId} keyed by the SHA-256 (hex) of a heartbeat token. */
  public String heartbeatToken(String tokenSha256Hex) {
    return prefix + "hb:" + tokenSha256Hex;
  }

  /** String with a TTL: present while a heartbeat signal was sent in the current coalescing window. */
  public String heartbeatWindow(String user) {
    return prefix + "hbwin:" + user;
  }

  /**
   * Hash: the route of a workspace label in dynamic routing (BERTH_ROUTING=dynamic): address, port,
   * user, requestId. Written by the route step, read by the API on every request through the
   * gateway, deleted by the undo only while its requestId is still the undo's own.
   */
  public String route(String label) {
    return prefix + "route:" + label;
  }

  /**
   * String with a TTL, per workspace request (armed reclaim): the idle deadline an extend pushed to
   * (epoch ms, only ever raised), or {@code reclaimed} once the armed reclaim removed the route, so
   * that a retried reclaim and a late extend agree with it.
   */
  public String idleHold(String requestId) {
    return prefix + "idle:" + requestId;
  }

  /** Hash: a local host's state (state, address, pids, ports, protected, owners). */
  public String instance(String hostId) {
    return prefix + "inst:" + hostId;
  }

  /** Set of local host ids. */
  public String instances() {
    return prefix + "insts";
  }

  /** Hash: port → owner (slot id) of the port allocator. */
  public String ports() {
    return prefix + "ports";
  }

  /** Counter for local host ids. */
  public String hostSequence() {
    return prefix + "inst:seq";
  }
}
