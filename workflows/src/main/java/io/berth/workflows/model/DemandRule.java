package io.berth.workflows.model;

import java.time.Duration;

/**
 * The demand term: the claims measured in the last 5, 15 and 60 minutes, each as a rate, the
 * highest rate times {@code horizon} (how long a new spare takes to come), plus one spare per miss
 * (a cold start) in the last 5 minutes; at most {@code max}.
 */
public record DemandRule(Duration horizon, int max) {}
