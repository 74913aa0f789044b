package io.berth.api;

import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;
import java.util.List;

/**
 * A workspace as the HTTP API shows it; times are ISO-8601 instants, absent until known.
 * {@code launchUrl}: a one-time link that lets the owner into the workspace (READY only; see
 * docs/ACCESS.md), {@code url} alone no longer opens it when workspace auth is on.
 */
@Serdeable
public record WorkspaceJson(String user, String workspaceId, String state, String url, String launchUrl,
                            String instanceId,
                            String template, long idleTimeoutSeconds, String allocatedAt, String idleDeadline,
                            String expiresAt, String reason, List<Step> steps) {

  @Serdeable
  public record Step(String step, String status, String at, String detail) {
    static Step of(ProgressStep s) {
      return new Step(s.step(), s.status(), instant(s.atMillis()), s.detail());
    }
  }

  public static WorkspaceJson of(WorkspaceView v) {
    List<Step> steps = v.steps() == null ? List.of() : v.steps().stream().map(Step::of).toList();
    return new WorkspaceJson(v.user(), v.workspaceId(), v.state() == null ? null : v.state().name(), v.url(), null,
        v.instanceId(), v.template(), v.idleTimeoutSeconds(), instant(v.allocatedAtMillis()),
        instant(v.idleDeadlineMillis()), instant(v.expiresAtMillis()), v.reason(), steps);
  }

  public WorkspaceJson withLaunchUrl(String launch) {
    return new WorkspaceJson(user, workspaceId, state, url, launch, instanceId, template, idleTimeoutSeconds,
        allocatedAt, idleDeadline, expiresAt, reason, steps);
  }

  static String instant(long millis) {
    return millis <= 0 ? null : Instant.ofEpochMilli(millis).toString();
  }
}
