package io.berth.api;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.context.annotation.ConfigurationProperties;

/** {@code berth.redis.*}: the read model and heartbeat store. The URL may carry a password; never log it. */
@ConfigurationProperties("berth.redis")
public record RedisSettings(String url, String prefix, @Nullable String passwordFile) {}
