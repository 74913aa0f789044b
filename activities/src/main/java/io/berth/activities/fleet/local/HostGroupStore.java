package io.berth.activities.fleet.local;

import io.berth.workflows.RedisKeys;
import java.nio.file.Path;

/**
 * Where one template's host group keeps its hosts. The default template's group keeps them where
 * a fleet of one template always did ({@code fleet/}, {@code insts}, {@code inst:desired}), so a
 * single-template deployment reads what it wrote before groups existed; every other template's
 * group keeps them under its name ({@code pools/<name>/}, {@code insts:<name>},
 * {@code inst:desired:<name>}). Host records ({@code inst:<id>}) and the host sequence are shared:
 * host ids are unique across groups, so a slot id names one slot of the whole fleet.
 *
 * @param name the template (pool) name, a DNS label
 * @param isDefault the default template's group
 */
record HostGroupStore(String name, boolean isDefault) {
  static final String DEFAULT_DIR = "fleet";
  static final String POOLS_DIR = "pools";

  HostGroupStore {
    if (!io.berth.workflows.Labels.validLabel(name)) {
      throw new IllegalArgumentException("host group name must be a DNS label: " + name);
    }
  }

  Path fleetDir(Path stateDir) {
    return isDefault ? stateDir.resolve(DEFAULT_DIR) : stateDir.resolve(POOLS_DIR).resolve(name);
  }

  String hostSet(RedisKeys keys) {
    return isDefault ? keys.instances() : keys.instances() + ":" + name;
  }

  /** Beside {@code inst:seq}; host ids are {@code h-<n>}, so it never names a host. */
  String desiredKey(RedisKeys keys) {
    return keys.prefix() + "inst:desired" + (isDefault ? "" : ":" + name);
  }
}
