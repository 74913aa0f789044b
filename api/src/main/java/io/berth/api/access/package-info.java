/**
 * Who the caller is and who gets into a workspace. User JWTs: their key ({@code JwtSecret},
 * {@code JwtSignature}), the claims checks, minting ({@code TokenMinter}) and the user id they name
 * ({@code Users}). The gateway: Nginx's auth check and routing ({@code GatewayController},
 * {@code GatewayRouting}, the token that proves a call comes from Nginx), launch tickets and the
 * workspace cookie they set ({@code WorkspaceAccess}, {@code LaunchTickets},
 * {@code AccessCookies}), and the page shown once a workspace is gone, which wakes a new one for its
 * owner ({@code WakeController}, {@code Wakes}, {@code WakeRequests}). The secrets kept in the state
 * directory follow one rule ({@code StateSecret}).
 */
package io.berth.api.access;
