package io.berth.workflows.model;

import java.time.Duration;

/**
 * Input of a WorkspaceWorkflow run. Built by the API from its configuration; {@code resume} is
 * set only when the workflow continues as new, carrying the READY workspace forward.
 * {@code reclaimLead}: how long before the idle deadline the armed reclaim is set up
 * ({@code BERTH_RECLAIM_LEAD}); null or zero means the default, see {@link #armedLead()}.
 * {@code placement}: where the placement steps run; null means {@link Placement#ACTIVITIES}, which
 * any worker can run. {@code capacityId}: the workflow id of the controller of this template's pool;
 * null means {@link io.berth.workflows.CapacityWorkflow#ID} (the only one before pools per template).
 */
public record WorkspaceParams(String user, String label, String hostname, String url, String template,
                              Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                              Duration allocateWait, ActiveWorkspace resume, Duration reclaimLead,
                              Placement placement, String capacityId) {
  /** Longest default lead: arming earlier only holds more armed reclaims open at once. */
  public static final Duration MAX_DEFAULT_LEAD = Duration.ofSeconds(30);
  /** Shortest default lead when the idle timeout allows it (a task round trip under load). */
  public static final Duration MIN_DEFAULT_LEAD = Duration.ofSeconds(2);

  public WorkspaceParams {
    placement = placement == null ? Placement.ACTIVITIES : placement;
  }

  public WorkspaceParams(String user, String label, String hostname, String url, String template,
                         Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                         Duration allocateWait, ActiveWorkspace resume, Duration reclaimLead, Placement placement) {
    this(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout, allocateWait, resume,
        reclaimLead, placement, null);
  }

  /** Placement as regular activities. */
  public WorkspaceParams(String user, String label, String hostname, String url, String template,
                         Duration idleTimeout, Duration maxLifetime, Duration coldStartTimeout,
                         Duration allocateWait, ActiveWorkspace resume, Duration reclaimLead) {
    this(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout, allocateWait, resume,
        reclaimLead, Placement.ACTIVITIES);
  }

  public WorkspaceParams withResume(ActiveWorkspace active) {
    return new WorkspaceParams(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout,
        allocateWait, active, reclaimLead, placement, capacityId);
  }

  public WorkspaceParams withPlacement(Placement where) {
    return new WorkspaceParams(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout,
        allocateWait, resume, reclaimLead, where, capacityId);
  }

  public WorkspaceParams withCapacityId(String id) {
    return new WorkspaceParams(user, label, hostname, url, template, idleTimeout, maxLifetime, coldStartTimeout,
        allocateWait, resume, reclaimLead, placement, id);
  }

  /** The controller this run signals. */
  public String controllerId() {
    return capacityId == null ? io.berth.workflows.CapacityWorkflow.ID : capacityId;
  }

  /**
   * The lead the workflow arms its reclaim with: the configured one, else min(idle / 3, 30 s) but
   * at least 2 s when the idle timeout is 4 s or more (never more than half the idle timeout, so
   * that a workspace is not armed right after each heartbeat). A configured lead is capped at the
   * idle timeout less 1 ms.
   */
  public Duration armedLead() {
    long idle = idleTimeout.toMillis();
    long lead;
    if (reclaimLead != null && reclaimLead.toMillis() > 0) {
      lead = reclaimLead.toMillis();
    } else {
      lead = Math.min(MAX_DEFAULT_LEAD.toMillis(), Math.max(idle / 3, Math.min(MIN_DEFAULT_LEAD.toMillis(), idle / 2)));
    }
    return Duration.ofMillis(Math.max(0, Math.min(lead, idle - 1)));
  }
}
