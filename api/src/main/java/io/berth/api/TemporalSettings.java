package io.berth.api;

import io.micronaut.context.annotation.ConfigurationProperties;

/** {@code berth.temporal.*}: the frontend the API's WorkflowClient talks to. */
@ConfigurationProperties("berth.temporal")
public record TemporalSettings(String target, String namespace) {}
