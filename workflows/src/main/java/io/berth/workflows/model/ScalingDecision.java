package io.berth.workflows.model;

/** One decision of the controller and why, kept for /api/status. */
public record ScalingDecision(long atMillis, int fromHosts, int toHosts, String action, String reason) {}
