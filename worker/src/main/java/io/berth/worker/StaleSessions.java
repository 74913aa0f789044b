package io.berth.worker;

import io.berth.activities.store.RedisStore;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.WorkspaceWorkflow;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Makes the read model agree with Temporal: a session whose user's workflow has closed (a teardown
 * that never finished its last step, a terminated run) is deleted with its heartbeat token and,
 * when it is still the session's, its route record. The admin list, the status and the gateway
 * then show only what runs; the controller recycles the slot once its owner has no session.
 * A workflow Temporal does not know at all is left to {@link LostWorkspaces}, which brings back
 * what the fleet still shows and drops the rest. Each call looks at one page of users, so a large
 * read model costs a bounded number of calls per interval.
 */
final class StaleSessions {
  private static final Logger log = LoggerFactory.getLogger(StaleSessions.class);
  static final int PAGE = 100;
  /** Deletes route:<label> only while it still names the session's request. */
  private static final String DELETE_ROUTE = """
      if redis.call('HGET', KEYS[1], 'requestId') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0
      """;

  private final WorkflowClient client;
  private final UnifiedJedis redis;
  private final RedisKeys keys;
  private final RedisStore store;
  private String cursor = ScanParams.SCAN_POINTER_START;

  StaleSessions(WorkflowClient client, UnifiedJedis redis, RedisKeys keys, RedisStore store) {
    this.client = client;
    this.redis = redis;
    this.keys = keys;
    this.store = store;
  }

  /** Looks at the next page of users; returns how many sessions were deleted. */
  synchronized int sweep() {
    ScanResult<String> page = redis.sscan(keys.users(), cursor, new ScanParams().count(PAGE));
    cursor = page.getCursor();
    int dropped = 0;
    for (String user : page.getResult()) {
      if (!Labels.validKey(user)) {
        continue;
      }
      // The session first, then Temporal: a new run writes its session only while it runs, so a
      // session read before a "closed" answer cannot be a newer run's.
      Map<String, String> ws = redis.hgetAll(keys.workspace(user));
      if (closed(user)) {
        drop(user, ws);
        dropped++;
      }
    }
    return dropped;
  }

  /** True only when Temporal knows the workflow and it no longer runs. */
  private boolean closed(String user) {
    try {
      WorkflowExecutionStatus s = client.newUntypedWorkflowStub(WorkspaceWorkflow.idFor(user)).describe().getStatus();
      return s != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    } catch (WorkflowNotFoundException e) {
      return false;
    }
  }

  /** Deletes the session {@code ws} as read (nothing when it has changed since), and its route. */
  void drop(String user, Map<String, String> ws) {
    String workspaceId = ws.get("workspaceId");
    if (workspaceId == null) {
      redis.srem(keys.users(), user); // a member without a session hash
      redis.zrem(keys.pings(), user);
      return;
    }
    store.deleteSession(user, workspaceId);
    String label = ws.get("label");
    String requestId = ws.get("requestId");
    if (label != null && Labels.validLabel(label) && requestId != null) {
      redis.eval(DELETE_ROUTE, List.of(keys.route(label)), List.of(requestId));
    }
    log.warn("dropped the session of {} ({}): no workflow of it runs", user, workspaceId);
  }
}
