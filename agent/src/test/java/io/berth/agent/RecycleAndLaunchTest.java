package io.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testkit.Await;
import io.berth.testkit.FakeAws;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's two jobs driven by Auto Scaling and tags, as a real process: a {@code Recycle} tag
 * restarts the template on a wiped home and is deleted; a launch lifecycle hook is completed once
 * the template answers its health path, not before.
 */
class RecycleAndLaunchTest {
  static final Duration BOUND = Duration.ofSeconds(60);

  @TempDir Path tmp;
  FakeAws aws;
  AgentBox box;

  @AfterEach
  void stop() throws Exception {
    if (box != null) {
      box.close();
    }
    aws.close();
  }

  @Test
  void recycleRestartsTheTemplateOnAWipedHomeThenDeletesTheTag() throws Exception {
    aws = FakeAws.start();
    box = new AgentBox(tmp, aws);
    box.startTemplate(0);
    // What the previous user left: files, a nested tree, and a link out of the home.
    Path home = box.home(0);
    Files.writeString(home.resolve("notes.txt"), "alice's notes");
    Files.createDirectories(home.resolve(".local/share/code-server/extensions"));
    Files.writeString(home.resolve(".local/share/code-server/extensions/x.js"), "alice's extension");
    Path outside = Files.writeString(tmp.resolve("outside.txt"), "not the user's");
    Files.createSymbolicLink(home.resolve("link"), outside);
    box.startAgent();
    assertEquals(204, box.put(0, "alice", "tok-alice"));
    String firstPid = box.templateStarts(0).get(0);

    aws.tag(box.instance.id(), "Owner", "UNASSIGNED");
    aws.tag(box.instance.id(), "Recycle", "1765000000001");
    Await.until("the agent deleted Recycle", BOUND, () -> !aws.instance(box.instance.id()).tags().containsKey("Recycle"));

    try (var left = Files.list(home)) {
      assertEquals(List.of(), left.toList(), "the home is empty");
    }
    assertEquals("not the user's", Files.readString(outside), "the link was removed, not followed");
    List<String> starts = box.templateStarts(0);
    assertEquals(2, starts.size(), "started again once: " + starts);
    assertFalse(starts.get(1).equals(firstPid), "a new process");
    assertNotNull(box.templateGet(0, "/healthz"), "the new template answers");
    assertFalse(Files.exists(box.stateDir().resolve("slot-0.json")), "alice's token forgotten");
    assertEquals(404, box.delete(0));

    List<FakeAws.Call> deletes = aws.calls("DeleteTags");
    assertEquals(1, deletes.size(), deletes.toString());
    Map<String, String> p = deletes.get(0).params();
    assertEquals(box.instance.id(), p.get("ResourceId.1"));
    assertEquals("Recycle", p.get("Tag.1.Key"));
    assertEquals("1765000000001", p.get("Tag.1.Value"), "only the value it recycled for");
    assertEquals("UNASSIGNED", aws.instance(box.instance.id()).tags().get("Owner"), "other tags untouched");
    assertEquals(0, box.imds.refused(), "every metadata read carried an IMDSv2 session token");

    // Released again: a new value is a new recycle.
    Files.writeString(home.resolve("bob.txt"), "bob's");
    aws.tag(box.instance.id(), "Recycle", "1765000000002");
    Await.until("the second recycle", BOUND, () -> !aws.instance(box.instance.id()).tags().containsKey("Recycle"));
    assertFalse(Files.exists(home.resolve("bob.txt")));
    assertEquals(3, box.templateStarts(0).size());
    // Logged just after DeleteTags answered, so possibly a moment after the tag is gone.
    Await.until("the agent's recycle line", BOUND, () -> box.logText().contains("slot 0: recycled in "));
  }

  @Test
  void theLaunchHookIsCompletedOnceTheTemplateAnswersItsHealthPath() throws Exception {
    aws = FakeAws.start().launchHook("berth-launch");
    box = new AgentBox(tmp, aws).env("BERTH_AGENT_LIFECYCLE_HOOK", "berth-launch");
    // No static keys: the SDK signs with the instance role, read from the metadata service as on EC2.
    box.instanceRole();
    String id = box.instance.id();
    assertEquals("Pending:Wait", aws.members(AgentBox.GROUP).get(0).lifecycle());

    box.startAgent();
    Await.until("the agent waiting for the template", BOUND, () -> box.logText().contains("waiting for slot 0 to answer /healthz"));
    assertEquals(List.of(), aws.calls("CompleteLifecycleAction"), "nothing completed while the template is down");

    box.startTemplate(0);
    Await.until(id + " in service", BOUND, () -> "InService".equals(aws.instance(id).lifecycle()));
    List<FakeAws.Call> calls = aws.calls("CompleteLifecycleAction");
    assertEquals(1, calls.size(), calls.toString());
    Map<String, String> p = calls.get(0).params();
    assertEquals(AgentBox.GROUP, p.get("AutoScalingGroupName"), "the group, read from the aws:autoscaling:groupName tag");
    assertEquals("berth-launch", p.get("LifecycleHookName"));
    assertEquals(id, p.get("InstanceId"));
    assertEquals("CONTINUE", p.get("LifecycleActionResult"));
    assertTrue(box.imds.credentialReads() > 0, "credentials from the instance role");

    // A restarted agent does not complete it again during the same boot.
    Await.until("the agent done with the hook", BOUND, () -> box.logText().contains("completed (CONTINUE) for " + id));
    box.stopAgent();
    box.startAgent();
    Await.until("the restarted agent's look at the hook", BOUND, () -> box.logText().contains("already completed during this boot"));
    assertEquals(1, aws.calls("CompleteLifecycleAction").size());
  }
}
