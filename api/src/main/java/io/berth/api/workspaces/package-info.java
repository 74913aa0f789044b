/**
 * A user's own workspaces: allocate, list, show, extend, release and follow their progress
 * ({@code /api/workspaces}), through the workspace workflows in Temporal
 * ({@code WorkspaceWorkflows}). The limits an allocation passes first live here too: the
 * per-user rate quotas, the number of workspaces a user may hold and the global cap on active
 * ones. {@code WorkspaceSettings} is {@code berth.workspace.*}.
 */
package io.berth.api.workspaces;
