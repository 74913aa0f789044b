package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.api.access.JwtSecret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtSecretTest {
  @TempDir
  Path dir;

  @Test
  void environmentSecretWins() {
    String s = "0123456789abcdef0123456789abcdef";
    assertEquals(s, JwtSecret.resolve(Map.of(JwtSecret.ENV_SECRET, s, JwtSecret.ENV_STATE_DIR, dir.toString())));
    assertTrue(!Files.exists(dir.resolve(JwtSecret.FILE_NAME)), "no file when the environment gives the secret");
  }

  @Test
  void shortEnvironmentSecretFailsWithAClearMessage() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> JwtSecret.resolve(Map.of(JwtSecret.ENV_SECRET, "too-short")));
    assertTrue(e.getMessage().contains("BERTH_JWT_SECRET") && e.getMessage().contains("at least 32"), e.getMessage());
  }

  @Test
  void fileIsCreatedOnceWithMode600AndReused() throws Exception {
    Path state = dir.resolve("state");
    Map<String, String> env = Map.of(JwtSecret.ENV_STATE_DIR, state.toString());
    String first = JwtSecret.resolve(env);
    Path file = state.resolve(JwtSecret.FILE_NAME);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(32, Base64.getDecoder().decode(first).length);
    assertEquals(first, JwtSecret.resolve(env));
    try (var files = Files.list(state)) {
      assertEquals(1, files.count(), "no temporary file left behind");
    }
  }

  @Test
  void shortFileFails() throws Exception {
    Files.writeString(dir.resolve(JwtSecret.FILE_NAME), "short\n");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> JwtSecret.resolve(Map.of(JwtSecret.ENV_STATE_DIR, dir.toString())));
    assertTrue(e.getMessage().contains(JwtSecret.FILE_NAME), e.getMessage());
  }

  @Test
  void tokenCliRejectsBadArgumentsAndUsers() {
    var out = new java.io.ByteArrayOutputStream();
    var err = new java.io.ByteArrayOutputStream();
    Map<String, String> env = Map.of(JwtSecret.ENV_STATE_DIR, dir.toString());
    assertEquals(2, TokenCli.run(new String[] {}, env, new java.io.PrintStream(out), new java.io.PrintStream(err)));
    assertEquals(2, TokenCli.run(new String[] {"a", "b"}, env, new java.io.PrintStream(out),
        new java.io.PrintStream(err)));
    assertEquals(1, TokenCli.run(new String[] {"bad\nuser"}, env, new java.io.PrintStream(out),
        new java.io.PrintStream(err)));
    assertEquals(0, out.size(), "nothing printed on failure");
  }
}
