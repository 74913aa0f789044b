package io.berth.activities.fleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandTemplateTest {
  private static final Template.Launch LAUNCH = new Template.Launch(51234, Path.of("/state/fleet/h-1/slot-0"), Map.of());

  @Test
  void splitsIntoWordsWithQuotesAndFillsPlaceholders() {
    CommandTemplate t = CommandTemplate.parse("command",
        "python3  -c 'print(1); import sys' --port={port} \"--dir={slotDir}/a b\" ';' '$HOME' `x`", "/healthz");
    assertEquals(List.of("python3", "-c", "print(1); import sys", "--port=51234", "--dir=/state/fleet/h-1/slot-0/a b",
        ";", "$HOME", "`x`"), t.argv(LAUNCH));
    assertEquals("/healthz", t.probePath());
  }

  @Test
  void rejectsWhatCannotRun() {
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "python3 -m http.server", "/"),
        "no {port}");
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "python3 {prot} {port}", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "python3 '{port}", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "no-such-program-xyz {port}", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "bin/python3 {port}", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "python3 {port}\nrm", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("Bad Name", "python3 {port}", "/"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "python3 {port}", "healthz"));
    assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("command", "   ", "/"));
  }

  @Test
  void templatesByName() {
    assertEquals("demo", Templates.fromConfig("demo", null, null).name());
    assertTrue(Templates.fromConfig("command", "/usr/bin/env {port}", "/").argv(LAUNCH).contains("51234"));
    assertThrows(IllegalArgumentException.class, () -> Templates.fromConfig("code-server", null, null));
    assertThrows(IllegalArgumentException.class, () -> Templates.fromConfig("nope", null, null));
  }
}
