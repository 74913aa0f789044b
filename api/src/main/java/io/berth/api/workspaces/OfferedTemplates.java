package io.berth.api.workspaces;

import io.berth.api.errors.ApiException;
import io.berth.workflows.pools.Pool;
import io.berth.workflows.pools.Pools;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.util.List;

/** The templates a caller may ask for (the pools of {@link TemplatePools}) and the controller of each. */
@Singleton
public class OfferedTemplates {
  private final Pools pools;

  public OfferedTemplates(Pools pools) {
    this.pools = pools;
  }

  /** {@code asked}, or the default template when null; 400 naming the offered ones when it is not offered. */
  public String chosen(@Nullable String asked) {
    if (asked == null) {
      return pools.defaultTemplate();
    }
    if (pools.get(asked) == null) {
      throw ApiException.badRequest("unknown template '" + asked + "'; offered: " + String.join(", ", pools.names()));
    }
    return asked;
  }

  /** A previous run's template while it is still offered, else the default one. */
  public String stillOffered(@Nullable String previous) {
    return previous != null && pools.get(previous) != null ? previous : pools.defaultTemplate();
  }

  public List<Pool> pools() {
    return pools.pools();
  }

  public String defaultTemplate() {
    return pools.defaultTemplate();
  }

  /** The workflow id of the controller of {@code template}'s pool. */
  public String controllerOf(String template) {
    return pools.controllerId(template);
  }
}
