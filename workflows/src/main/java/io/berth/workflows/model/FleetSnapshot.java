package io.berth.workflows.model;

import java.util.List;

/** What the provider reports: desired capacity, bounds and every host that is not yet gone. */
public record FleetSnapshot(int desired, int min, int max, List<Host> hosts) {}
