package io.berth.workflows.model;

/**
 * An armed reclaim: at {@code deadlineMillis} (epoch ms), if the workspace had no activity within
 * {@code idleMillis} before it and no extend holds it past it, its route goes. {@code route} names
 * the workspace (label, user) and the request whose route may be removed (its requestId).
 */
public record ReclaimRequest(RouteSpec route, long deadlineMillis, long idleMillis) {}
