package io.berth.workflows.model;

/** A DNS A record for one workspace: {@code hostname} → {@code address}. */
public record DnsRecord(String requestId, String hostname, String address) {}
