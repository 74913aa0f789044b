package io.berth.worker;

import io.berth.activities.fleet.Fleet;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.TaskQueues;
import io.berth.workflows.WorkspaceWorkflow;
import io.berth.workflows.model.ActiveWorkspace;
import io.berth.workflows.model.Slot;
import io.berth.workflows.model.WorkspaceParams;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * After Temporal lost its state (a test server that restarted keeps nothing in memory), every
 * READY workspace still runs, routed and recorded in Redis, but its workflow is gone: nothing would
 * reclaim it when idle, and its owner tag would look like an orphan. This re-creates each one's
 * workflow from its Redis session, in the READY state, as continue-as-new does: the user keeps the
 * workspace, its URL and its heartbeat token. Only a session whose slot the fleet still shows as
 * the user's is brought back; any other session is dropped.
 */
final class LostWorkspaces {
  private static final Logger log = LoggerFactory.getLogger(LostWorkspaces.class);
  /** Only read when the user allocates again: a READY workspace answers at once. */
  private static final Duration ALLOCATE_WAIT = Duration.ofSeconds(10);
  private static final Duration COLD_START = Duration.ofMinutes(5);

  private final WorkflowClient client;
  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final String domain;
  private final Fleet fleet;
  private final StaleSessions stale;
  private final UnaryOperator<String> capacityIdOf;

  /** {@code capacityIdOf}: a template → the workflow id of its pool's controller (null: {@code capacity}). */
  LostWorkspaces(WorkflowClient client, UnifiedJedis redis, RedisKeys keys, String domain, Fleet fleet,
                 StaleSessions stale, UnaryOperator<String> capacityIdOf) {
    this.stale = stale;
    this.capacityIdOf = capacityIdOf;
    this.client = client;
    this.fleet = fleet;
    this.redis = redis;
    this.keys = keys;
    this.domain = domain;
  }

  /** Returns how many workflows were re-created. */
  int recreate() {
    int n = 0;
    for (String user : redis.smembers(keys.users())) {
      if (!Labels.validKey(user)) {
        continue;
      }
      Map<String, String> ws = redis.hgetAll(keys.workspace(user));
      WorkspaceParams params = ws.isEmpty() || !"READY".equals(ws.get("state")) ? null : params(user, ws);
      if (known(user)) {
        continue;
      }
      if (params == null || !user.equals(fleet.ownerOf(params.resume().slot()))) {
        stale.drop(user, ws); // nothing runs it and nothing can: it only misleads the list and the gateway
        continue;
      }
      try {
        WorkspaceWorkflow stub = client.newWorkflowStub(WorkspaceWorkflow.class, WorkflowOptions.newBuilder()
            .setWorkflowId(WorkspaceWorkflow.idFor(user))
            .setTaskQueue(TaskQueues.BERTH)
            .build());
        WorkflowClient.start(stub::run, params);
        n++;
        log.warn("re-created the lost workflow of {}'s READY workspace on {}", user, ws.get("slotId"));
      } catch (WorkflowExecutionAlreadyStarted e) {
        // The user allocated again meanwhile: that run owns the user now.
        log.info("{} already has a new workflow; not re-creating the lost one", user);
      } catch (RuntimeException e) {
        log.warn("could not re-create the workflow of {}: {}", user, e.toString());
      }
    }
    return n;
  }

  /** Any run of the user's workflow on this server, open or closed: only a lost one is re-created. */
  private boolean known(String user) {
    try {
      client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe();
      return true;
    } catch (WorkflowNotFoundException e) {
      return false;
    }
  }

  /** The run's input as the API built it, with the READY state the session recorded; null when malformed. */
  private WorkspaceParams params(String user, Map<String, String> ws) {
    try {
      String label = Labels.labelFor(user);
      if (!label.equals(ws.get("label"))) {
        return null;
      }
      String[] slotId = ws.get("slotId").split("/");
      Slot slot = new Slot(ws.get("slotId"), ws.get("hostId"), Integer.parseInt(slotId[1]), ws.get("address"),
          Integer.parseInt(ws.get("port")), ws.get("template"));
      long allocatedAt = Long.parseLong(ws.get("allocatedAt"));
      long expiresAt = Long.parseLong(ws.get("expiresAt"));
      ActiveWorkspace active = new ActiveWorkspace(ws.get("requestId"), ws.get("workspaceId"), slot, allocatedAt,
          Long.parseLong(ws.get("idleDeadline")), expiresAt);
      return new WorkspaceParams(user, label, label + "." + domain, ws.get("url"), ws.get("template"),
          Duration.ofMillis(Long.parseLong(ws.get("idleTimeoutMs"))), Duration.ofMillis(expiresAt - allocatedAt),
          COLD_START, ALLOCATE_WAIT, active, null).withCapacityId(capacityIdOf.apply(ws.get("template")));
    } catch (RuntimeException e) {
      log.warn("the session of {} cannot be read back: {}", user, e.toString());
      return null;
    }
  }
}
