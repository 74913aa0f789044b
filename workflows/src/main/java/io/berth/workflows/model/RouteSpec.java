package io.berth.workflows.model;

/**
 * An Nginx route for one workspace. {@code label} is a validated DNS label (never raw user input),
 * {@code hostname} is {@code <label>.<domain>}.
 */
public record RouteSpec(String requestId, String user, String label, String hostname, String upstreamAddress,
                        int upstreamPort) {}
