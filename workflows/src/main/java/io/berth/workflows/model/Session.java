package io.berth.workflows.model;

/**
 * The Redis read model of a READY workspace ({@code ws:<user>}). Holds no secret: the heartbeat
 * token is minted inside the session activity and only its hash is stored.
 */
public record Session(String requestId, String user, String workspaceId, String label, String url, Slot slot,
                      String template, long allocatedAtMillis, long idleDeadlineMillis, long expiresAtMillis,
                      long idleTimeoutMillis, String state) {}
