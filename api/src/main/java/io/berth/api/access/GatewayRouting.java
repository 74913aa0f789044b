package io.berth.api.access;

import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import java.util.Locale;

/**
 * {@code berth.gateway.routing} ({@code BERTH_ROUTING}), the same value the worker gets.
 * {@code dynamic} (the default): Nginx's one wildcard server asks {@code /api/gateway/auth} where
 * every request goes, so every answer comes from the {@code route:<label>} record, and no record
 * means no workspace (403, which Nginx turns into its 404). {@code files}: the route files know
 * the upstream; the auth check is the cookie alone, unless Nginx asks for the record itself
 * ({@code X-Berth-Routing: dynamic}, what the wildcard server sends). Eager, so a bad value stops
 * the API at startup.
 */
@Context
public class GatewayRouting {
  private final boolean dynamic;

  public GatewayRouting(@Nullable @Value("${berth.gateway.routing:dynamic}") String routing) {
    String mode = routing == null ? "" : routing.trim().toLowerCase(Locale.ROOT);
    if (!mode.isEmpty() && !mode.equals("dynamic") && !mode.equals("files")) {
      throw new IllegalStateException("berth.gateway.routing (BERTH_ROUTING) must be dynamic or files, got '"
          + routing + "'");
    }
    this.dynamic = !mode.equals("files");
  }

  public boolean dynamic() {
    return dynamic;
  }
}
