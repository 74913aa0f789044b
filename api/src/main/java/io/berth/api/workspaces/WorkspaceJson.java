package io.berth.api.workspaces;

import io.berth.workflows.Labels;
import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;
import java.util.List;

/**
 * A workspace as the HTTP API shows it; times are ISO-8601 instants, absent until known.
 * {@code launchUrl}: a one-time link that lets the owner into the workspace (READY only; see
 * docs/ACCESS.md), {@code url} alone no longer opens it when workspace auth is on. {@code user}
 * is the owner's user id, {@code name} the workspace's name (null for their default workspace).
 */
@Serdeable
public record WorkspaceJson(String user, String name, String workspaceId, String state, String url, String launchUrl,
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
    String key = v.user();
    return new WorkspaceJson(key == null ? null : Labels.userOf(key), key == null ? null : Labels.nameOf(key),
        v.workspaceId(), v.state() == null ? null : v.state().name(), v.url(), null,
        v.instanceId(), v.template(), v.idleTimeoutSeconds(), instant(v.allocatedAtMillis()),
        instant(v.idleDeadlineMillis()), instant(v.expiresAtMillis()), v.reason(), steps);
  }

  public WorkspaceJson withLaunchUrl(String launch) {
    return new WorkspaceJson(user, name, workspaceId, state, url, launch, instanceId, template, idleTimeoutSeconds,
        allocatedAt, idleDeadline, expiresAt, reason, steps);
  }

  static String instant(long millis) {
    return millis <= 0 ? null : Instant.ofEpochMilli(millis).toString();
  }
}
