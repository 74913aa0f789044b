package io.berth.workflows.model;

import java.util.List;

/** The Redis side of capacity: spare slot ids in the pool, quarantined slot ids, live sessions. */
public record PoolState(List<String> spares, List<String> quarantined, int sessions) {}
