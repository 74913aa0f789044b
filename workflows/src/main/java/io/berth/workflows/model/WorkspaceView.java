package io.berth.workflows.model;

import java.util.List;

/** What the workflow tells the API about a workspace (update result and query). */
public record WorkspaceView(String user, String workspaceId, WorkspaceState state, String url, String instanceId,
                            String slotId, String template, long idleTimeoutSeconds, long allocatedAtMillis,
                            long idleDeadlineMillis, long expiresAtMillis, String reason, List<ProgressStep> steps) {}
