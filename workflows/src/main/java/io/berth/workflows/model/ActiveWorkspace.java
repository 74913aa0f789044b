package io.berth.workflows.model;

/** The state a READY workspace carries across continue-as-new. */
public record ActiveWorkspace(String requestId, String workspaceId, Slot slot, long allocatedAtMillis,
                              long idleDeadlineMillis, long expiresAtMillis) {}
