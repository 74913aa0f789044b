/**
 * What keeps a workspace from being reclaimed as idle ({@code berth.activity}): heartbeats from
 * inside it ({@code POST /api/heartbeat} with the workspace's own token) and traffic the gateway
 * lets through. Both are written to Redis at once and reach the workspace workflow as a signal
 * at most once per window.
 */
package io.berth.api.activity;
