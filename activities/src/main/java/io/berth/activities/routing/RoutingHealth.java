package io.berth.activities.routing;

import java.time.Instant;

/**
 * Routing as /health and metrics see it: whether Nginx runs, how many route files exist, how many
 * reloads happened (each may carry several route changes), and the last failure.
 */
public record RoutingHealth(boolean nginxRunning, int routes, long reloads, long changesApplied,
                            long reloadFailures, String lastError, Instant lastErrorAt) {}
