/**
 * The API process ({@link io.berth.api.Application}) and what every feature shares: the clients of
 * its two outside systems, Temporal and Redis ({@link io.berth.api.Clients} and their settings), how
 * a Temporal failure reads ({@link io.berth.api.Temporal}), how a call's optional fields are read
 * from any body and checked against its request record's constraints
 * ({@link io.berth.api.RequestFields}, {@link io.berth.api.RequestBodies}), the dashboard and the
 * OpenAPI document, and {@code ./berth token} ({@link io.berth.api.TokenCli}).
 *
 * <p>Features live in subpackages: {@code workspaces} (a user's own workspaces), {@code access}
 * (who the caller is and who gets through the gateway), {@code activity} (what keeps a workspace
 * alive), {@code admin} (operators), {@code aws} (Auto Scaling news over SNS); {@code errors},
 * {@code health} and {@code metrics} serve them all.
 */
package io.berth.api;
