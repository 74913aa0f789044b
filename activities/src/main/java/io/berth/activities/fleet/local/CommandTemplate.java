package io.berth.activities.fleet.local;

import io.berth.workflows.Labels;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A template from configuration: a command line with {@code {port}} (and optionally
 * {@code {slotDir}}), split into words here and started without a shell, so quotes group words
 * and nothing else in it is special.
 */
public record CommandTemplate(String name, List<String> words, String probePath) implements Template {
  private static final int MAX_LENGTH = 4096;
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z]*)}");
  private static final Pattern PROBE_PATH = Pattern.compile("/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*");

  public CommandTemplate {
    words = List.copyOf(words);
  }

  /** Validates and splits; throws IllegalArgumentException saying what is wrong. */
  public static CommandTemplate parse(String name, String command, String probePath) {
    if (!Labels.validLabel(name)) {
      throw new IllegalArgumentException("template name must be a DNS label: " + name);
    }
    if (command == null || command.isBlank()) {
      throw new IllegalArgumentException("template " + name + ": command is empty");
    }
    if (command.length() > MAX_LENGTH || command.chars().anyMatch(c -> Character.isISOControl(c) && c != '\t')) {
      throw new IllegalArgumentException("template " + name + ": command is too long or has control characters");
    }
    String probe = probePath == null ? "/" : probePath;
    if (!PROBE_PATH.matcher(probe).matches()) {
      throw new IllegalArgumentException("template " + name + ": probe path must be a plain absolute path");
    }
    List<String> words = split(command);
    checkPlaceholders(name, words);
    checkExecutable(name, words.get(0));
    return new CommandTemplate(name, words, probe);
  }

  static List<String> split(String command) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (char c : command.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("unbalanced " + quote + " in command");
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }

  private static void checkPlaceholders(String name, List<String> words) {
    boolean port = false;
    for (String w : words) {
      Matcher m = PLACEHOLDER.matcher(w);
      while (m.find()) {
        switch (m.group(1)) {
          case "port" -> port = true;
          case "slotDir" -> { }
          default -> throw new IllegalArgumentException("template " + name + ": unknown placeholder " + m.group());
        }
      }
    }
    if (!port) {
      throw new IllegalArgumentException("template " + name + ": command must contain {port}");
    }
    if (PLACEHOLDER.matcher(words.get(0)).find()) {
      throw new IllegalArgumentException("template " + name + ": the program itself cannot be a placeholder");
    }
  }

  private static void checkExecutable(String name, String program) {
    if (program.contains("/")) {
      Path p = Path.of(program);
      if (!p.isAbsolute() || !Files.isExecutable(p) || Files.isDirectory(p)) {
        throw new IllegalArgumentException("template " + name + ": " + program + " is not an executable absolute path");
      }
      return;
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program)) && !Files.isDirectory(Path.of(dir, program))) {
        return;
      }
    }
    throw new IllegalArgumentException("template " + name + ": " + program + " is not on PATH");
  }

  @Override
  public List<String> argv(Launch launch) {
    return words.stream()
        .map(w -> w.replace("{port}", String.valueOf(launch.port())).replace("{slotDir}", launch.slotDir().toString()))
        .toList();
  }
}
