package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LabelsTest {
  @Test
  void theDefaultWorkspaceKeyIsTheUserIdAndItsLabelIsUnchanged() {
    assertEquals("alice", Labels.workspaceKey("alice", null));
    // the label every existing workspace of alice has: a named workspace must not change it
    assertEquals("alice-" + Labels.sha256Hex("alice").substring(0, 8), Labels.labelFor("alice"));
    assertEquals("alice", Labels.userOf("alice"));
    assertNull(Labels.nameOf("alice"));
  }

  @Test
  void aNamedKeySplitsBackIntoUserAndNameAndHasItsOwnLabel() {
    String key = Labels.workspaceKey("alice@example.com", "dev");
    assertEquals("alice@example.com#dev", key);
    assertEquals("alice@example.com", Labels.userOf(key));
    assertEquals("dev", Labels.nameOf(key));
    assertTrue(Labels.validKey(key));
    String label = Labels.labelFor(key);
    assertTrue(Labels.validLabel(label), label);
    assertNotEquals(Labels.labelFor("alice@example.com"), label);
    assertNotEquals(Labels.labelFor(Labels.workspaceKey("alice@example.com", "dev2")), label);
  }

  @Test
  void aKeyOfALongestUserIdStillValidates() {
    String user = "u".repeat(Labels.MAX_USER_LENGTH);
    String key = Labels.workspaceKey(user, "x".repeat(16));
    assertTrue(Labels.validKey(key));
    assertTrue(Labels.validLabel(Labels.labelFor(key)));
    assertEquals(user, Labels.userOf(key));
  }

  @Test
  void userIdsWithTheSeparatorAreNoLongerValidUsersButOldKeysStayValidKeys() {
    assertFalse(Labels.validUser("alice#dev"));
    assertThrows(IllegalArgumentException.class, () -> Labels.workspaceKey("alice#x", null));
    // an id that was accepted before keeps working inside (its workspace can still be torn down)
    assertTrue(Labels.validKey("o'brien#1 {x}"));
    assertTrue(Labels.validLabel(Labels.labelFor("o'brien#1 {x}")));
  }

  @Test
  void badNamesAreRejected() {
    for (String bad : List.of("../x", "A", "a".repeat(17), "a b", "", "a-b", "a#b", "é")) {
      assertFalse(Labels.validName(bad), bad);
      assertThrows(IllegalArgumentException.class, () -> Labels.workspaceKey("alice", bad), bad);
    }
    assertTrue(Labels.validName("a".repeat(16)));
    assertTrue(Labels.validName("dev2"));
    assertFalse(Labels.validKey("u".repeat(Labels.MAX_USER_LENGTH) + "#A"));
    assertFalse(Labels.validKey(null));
    assertFalse(Labels.validKey("#dev" + "x".repeat(200)));
  }
}
