package io.berth.workflows.pools;

import io.berth.workflows.model.SpareRules;

/**
 * One template users may ask for, and its own pool: its hosts run only its slots.
 *
 * @param name what users ask for ({@code POST /api/workspaces {"template": name}})
 * @param kind {@code demo}, {@code command}, {@code code-server} or {@code chromium}
 * @param command {@code command}: the command line, with {@code {port}}; else null
 * @param probePath {@code command}: the readiness path; null means {@code /}
 * @param spares the base spare count (outside every schedule); {@code rules.base()} is the same
 */
public record Pool(String name, String kind, String command, String probePath, int spares, int minHosts,
                   int maxHosts, int slotsPerHost, SpareRules rules) {}
