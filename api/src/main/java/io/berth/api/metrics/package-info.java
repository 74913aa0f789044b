/**
 * {@code GET /prometheus}: the API's own meters (allocations, heartbeats) and fleet gauges and
 * worker counters read from Temporal and Redis at most once per refresh.
 */
package io.berth.api.metrics;
