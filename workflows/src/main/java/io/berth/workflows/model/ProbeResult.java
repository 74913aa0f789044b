package io.berth.workflows.model;

/** Outcome of a readiness probe: passed, the HTTP status seen (0 when nothing answered), why. */
public record ProbeResult(boolean ready, int status, String detail) {}
