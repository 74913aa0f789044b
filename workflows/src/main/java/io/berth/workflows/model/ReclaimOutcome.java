package io.berth.workflows.model;

/**
 * What an armed reclaim found at the deadline: {@code reclaimed} (idle: the route is gone), or the
 * newer activity that keeps the workspace: the last heartbeat recorded in Redis
 * ({@code lastActivityMillis}, 0 when none) and the deadline an extend recorded
 * ({@code heldUntilMillis}, 0 when none). {@code decidedAtMillis}: the worker's clock when the
 * check ran (and the route went), for measuring how close to the deadline that was.
 */
public record ReclaimOutcome(boolean reclaimed, long lastActivityMillis, long heldUntilMillis, long decidedAtMillis) {}
