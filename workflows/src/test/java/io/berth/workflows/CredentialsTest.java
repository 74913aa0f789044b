package io.berth.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway token and the Redis password: where they come from, what is refused, what reaches a log. */
class CredentialsTest {
  @TempDir
  Path dir;

  @Test
  void theGatewayTokenIsMadeOnceModeSixHundredAndSharedThroughTheFile() throws Exception {
    Map<String, String> env = Map.of("BERTH_STATE_DIR", dir.toString());
    String first = GatewayToken.resolve(env);
    assertTrue(first.matches("[A-Za-z0-9_-]{43}"), first);
    Path file = dir.resolve(GatewayToken.FILE_NAME);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(first, GatewayToken.resolve(env), "the worker and the API read the same token");
    String explicit = "an-explicit-token-0123456789abcdef0123";
    assertEquals(explicit, GatewayToken.resolve(Map.of(GatewayToken.ENV, explicit, "BERTH_STATE_DIR", dir.toString())));
  }

  @Test
  void aTokenThatCouldBreakNginxsConfigIsRefusedWithoutEchoingIt() {
    for (String bad : new String[] {"short", "0123456789abcdef0123456789abcdef\"; evil", "0123456789abcdef0123456789abcdef }",
        "0123456789abcdef 0123456789abcdef", "0123456789abcdef0123456789abcdef$x"}) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> GatewayToken.resolve(Map.of(GatewayToken.ENV, bad)), bad);
      assertFalse(e.getMessage().contains(bad), "the message names the source, not the value: " + e.getMessage());
      assertTrue(e.getMessage().contains(GatewayToken.ENV), e.getMessage());
    }
    assertThrows(IllegalStateException.class, () -> GatewayToken.nginxMap("x\"; include /etc/passwd; #"));
  }

  @Test
  void matchesOnlyTheSameToken() {
    String t = "0123456789abcdef0123456789abcdef";
    assertTrue(GatewayToken.matches(t, t));
    assertFalse(GatewayToken.matches(t, null));
    assertFalse(GatewayToken.matches(t, ""));
    assertFalse(GatewayToken.matches(t, t + "0"));
    assertFalse(GatewayToken.matches(t, t.substring(1)));
  }

  @Test
  void theRedisPasswordComesFromItsFileAndLeavesLogsRedacted() throws Exception {
    Path file = dir.resolve("redis-password");
    Files.writeString(file, "p@ss word/x\n");
    String url = RedisUrls.withPasswordFile("redis://127.0.0.1:6380", file.toString());
    assertEquals("redis://:p%40ss%20word%2Fx@127.0.0.1:6380", url);
    assertTrue(RedisUrls.hasPassword(url));
    assertEquals("redis://:***@127.0.0.1:6380", RedisUrls.redact(url));
    assertEquals("redis://127.0.0.1:6380", RedisUrls.withPasswordFile("redis://127.0.0.1:6380", ""));
    assertFalse(RedisUrls.hasPassword("redis://127.0.0.1:6380"));
    assertEquals("redis://127.0.0.1:6380", RedisUrls.redact("redis://127.0.0.1:6380"));
    assertEquals("redis://user:***@h:1/2", RedisUrls.redact("redis://user:secret@h:1/2"));
  }

  @Test
  void aMissingEmptyOrDoublePasswordIsAClearError() throws Exception {
    IllegalStateException missing = assertThrows(IllegalStateException.class,
        () -> RedisUrls.withPasswordFile("redis://h:1", dir.resolve("nope").toString()));
    assertTrue(missing.getMessage().contains(RedisUrls.PASSWORD_FILE_ENV), missing.getMessage());
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertThrows(IllegalStateException.class, () -> RedisUrls.withPasswordFile("redis://h:1", empty.toString()));
    Path ok = Files.writeString(dir.resolve("ok"), "pw-secret\n");
    IllegalStateException twice = assertThrows(IllegalStateException.class,
        () -> RedisUrls.withPasswordFile("redis://:other@h:1", ok.toString()));
    assertFalse(twice.getMessage().contains("other") || twice.getMessage().contains("pw-secret"), twice.getMessage());
  }
}
