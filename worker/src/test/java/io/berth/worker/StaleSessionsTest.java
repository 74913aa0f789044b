package io.berth.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.activities.store.RedisStore;
import io.berth.testkit.PrivateRedis;
import io.berth.workflows.Labels;
import io.berth.workflows.RedisKeys;
import io.berth.workflows.WorkspaceWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The read model agrees with Temporal: only sessions whose run Temporal knows as closed go. */
class StaleSessionsTest {
  @WorkflowInterface
  public interface Stand {
    @WorkflowMethod
    void run(boolean forever);
  }

  public static class StandImpl implements Stand {
    @Override
    public void run(boolean forever) {
      if (forever) {
        Workflow.await(() -> false);
      }
    }
  }

  static PrivateRedis redisServer;
  static RedisClient redis;
  static TestWorkflowEnvironment env;
  static final RedisKeys keys = new RedisKeys("stale-test:");

  @BeforeAll
  static void start() {
    redisServer = PrivateRedis.start();
    redis = RedisClient.create(redisServer.url());
    env = TestWorkflowEnvironment.newInstance();
    env.newWorker("stand").registerWorkflowImplementationTypes(StandImpl.class);
    env.start();
  }

  @AfterAll
  static void stop() {
    env.close();
    redis.close();
    redisServer.close();
  }

  private void run(String user, boolean forever) {
    Stand stub = env.getWorkflowClient().newWorkflowStub(Stand.class, WorkflowOptions.newBuilder()
        .setWorkflowId(WorkspaceWorkflow.idFor(user)).setTaskQueue("stand").build());
    if (forever) {
      WorkflowClient.start(stub::run, true);
    } else {
      stub.run(false);
    }
  }

  private void session(String user) {
    String label = Labels.labelFor(user);
    redis.hset(keys.workspace(user), Map.of("user", user, "workspaceId", "ws-" + user, "requestId", "req-" + user,
        "label", label, "state", "READY"));
    redis.sadd(keys.users(), user);
    redis.zadd(keys.pings(), 1, user);
    redis.hset(keys.route(label), Map.of("address", "127.0.0.1", "port", "20000", "user", user,
        "requestId", "req-" + user));
  }

  @Test
  void aSessionWhoseRunClosedGoesWithItsRouteAndTheOthersStay() {
    session("closed-1");
    run("closed-1", false);
    session("running-1");
    run("running-1", true);
    session("unknown-1"); // Temporal never saw it: LostWorkspaces' case, not this one's
    redis.sadd(keys.users(), "hollow-1"); // listed, no session hash
    StaleSessions stale = new StaleSessions(env.getWorkflowClient(), redis, keys, new RedisStore(redis, keys, null));

    assertEquals(1, stale.sweep());

    assertFalse(redis.exists(keys.workspace("closed-1")));
    assertFalse(redis.exists(keys.route(Labels.labelFor("closed-1"))), "its route went with it");
    assertFalse(redis.sismember(keys.users(), "closed-1"));
    assertTrue(redis.exists(keys.workspace("running-1")));
    assertTrue(redis.exists(keys.route(Labels.labelFor("running-1"))));
    assertTrue(redis.exists(keys.workspace("unknown-1")));
  }

  @Test
  void aRouteThatNamesAnotherRequestStays() {
    session("moved-1");
    redis.hset(keys.route(Labels.labelFor("moved-1")), "requestId", "a-newer-request");
    run("moved-1", false);
    new StaleSessions(env.getWorkflowClient(), redis, keys, new RedisStore(redis, keys, null)).sweep();
    assertFalse(redis.exists(keys.workspace("moved-1")));
    assertTrue(redis.exists(keys.route(Labels.labelFor("moved-1"))), "the route is a newer request's");
  }
}
