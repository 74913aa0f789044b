package io.berth.workflows.model;

import java.time.Duration;

/**
 * Input of a WorkspaceWorkflow run. Built by the API from its configuration; {@code resume} is
 * set only when the workflow continues as new, carrying the READY workspace forward.
 */
public record WorkspaceParams(String user, String label, String hostname, String url, String template,
                              Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                              Duration allocateWait, ActiveWorkspace resume) {
  public WorkspaceParams withResume(ActiveWorkspace active) {
    return new WorkspaceParams(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout,
        allocateWait, active);
  }
}
