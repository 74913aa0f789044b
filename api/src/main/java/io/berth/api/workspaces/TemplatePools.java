package io.berth.api.workspaces;

import io.berth.workflows.pools.Pools;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.env.Environment;
import io.micronaut.context.env.PropertySource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The templates the API offers, read as the worker reads them ({@link Pools#fromEnv}): the
 * templates file, the default template and the extra names from {@link WorkspaceSettings}, the
 * pool overrides ({@code BERTH_SPARES}, {@code BERTH_POOL_<NAME>_<SETTING>}, ...) from the
 * environment or the context's properties under their own names. A bad file or override stops
 * startup with Pools' message: the worker would refuse it as well.
 */
@Factory
public class TemplatePools {
  /** Overrides of the default template's pool, beside the {@code BERTH_POOL_} ones of any template. */
  static final List<String> DEFAULT_POOL_OVERRIDES = List.of("BERTH_SPARES", "BERTH_MIN_HOSTS", "BERTH_MAX_HOSTS",
      "BERTH_SLOTS_PER_HOST", "BERTH_TEMPLATE_COMMAND");
  static final String POOL_OVERRIDE_PREFIX = "BERTH_POOL_";

  @Context
  public Pools pools(WorkspaceSettings settings, Environment environment) {
    Map<String, String> env = overrides(environment);
    env.putAll(settings.templatesEnv());
    try {
      return Pools.fromEnv(env);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** The pool overrides set in the process environment or as properties of the context. */
  static Map<String, String> overrides(Environment environment) {
    Map<String, String> env = new HashMap<>();
    for (PropertySource source : environment.getPropertySources()) {
      for (String key : source) {
        if (key.startsWith(POOL_OVERRIDE_PREFIX) || DEFAULT_POOL_OVERRIDES.contains(key)) {
          environment.getProperty(key, String.class).ifPresent(v -> env.put(key, v));
        }
      }
    }
    return env;
  }
}
