package io.berth.workflows.model;

/** Claim one spare slot of a template for a user; {@code requestId} makes the claim idempotent. */
public record ClaimRequest(String requestId, String user, String template) {}
