package io.berth.api.workspaces;

import io.berth.workflows.RedisKeys;
import io.berth.workflows.pools.Pool;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.util.List;
import redis.clients.jedis.RedisClient;

/** The templates a caller may ask for in {@code POST /api/workspaces}, the default one first. */
@Controller("/api/templates")
@Secured(SecurityRule.IS_AUTHENTICATED)
@ExecuteOn(TaskExecutors.BLOCKING)
public class TemplatesController {
  private final OfferedTemplates templates;
  private final RedisClient redis;
  private final RedisKeys keys;

  public TemplatesController(OfferedTemplates templates, RedisClient redis, RedisKeys keys) {
    this.templates = templates;
    this.redis = redis;
    this.keys = keys;
  }

  /** {@code sparesReady}: the spares in its pool now (a warm start, while there is one). */
  @Serdeable
  public record Template(String name, String kind, boolean defaultTemplate, long sparesReady) {}

  @Operation(summary = "The offered templates: name, kind, whether it is the default, spares ready now")
  @ApiResponse(responseCode = "200", description = "the templates, the default one first")
  @Get
  public List<Template> list() {
    String dflt = templates.defaultTemplate();
    return templates.pools().stream()
        .sorted((a, b) -> Boolean.compare(b.name().equals(dflt), a.name().equals(dflt)))
        .map(p -> new Template(p.name(), p.kind(), p.name().equals(dflt), spares(p)))
        .toList();
  }

  /** One SCARD per template: the pool's set in the read model. */
  private long spares(Pool p) {
    return redis.scard(keys.pool(p.name()));
  }
}
