package io.berth.workflows.model;

/** A workspace waiting for a spare (cold path): served first come, first served. */
public record CapacityRequest(String workflowId, String user, String template, long atMillis) {}
