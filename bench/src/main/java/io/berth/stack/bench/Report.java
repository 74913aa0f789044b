package io.berth.stack.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a scenario found: tables, target verdicts and notes, printed at once and kept for BENCHMARKS.md.
 * The file is a reference: a table of current figures gathered from the sections' target lines, the
 * sections written by hand, then one section per scenario, each headed by the run that produced it.
 */
final class Report {
  /** The heading of the table of current figures, which every write rebuilds from the sections. */
  static final String CURRENT = "Current figures";

  /** Who produced a section, so that a reader can reproduce it. {@code conditions}: duration, load, versions. */
  record Run(String command, String machine, String date, String commit, String conditions) {
    private static final String HEAD = "| command | machine | date | commit |\n|---|---|---|---|\n";
    private static final Pattern ROW = Pattern.compile("(?m)^\\| command \\| machine \\| date \\| commit \\|\\n"
        + "\\|---\\|---\\|---\\|---\\|\\n\\| `([^`\\n]*)` \\| ([^|\\n]*) \\| ([^|\\n]*) \\| ([^|\\n]*) \\|$");

    String markdown() {
      return HEAD + "| `" + command + "` | " + machine + " | " + date + " | " + commit + " |\n\n"
          + (conditions.isBlank() ? "" : conditions.strip() + "\n\n");
    }

    /** The run a section's text names, if it names one; its conditions are not read back. */
    static Optional<Run> of(String section) {
      Matcher m = ROW.matcher(section);
      return m.find() ? Optional.of(new Run(m.group(1), m.group(2).strip(), m.group(3).strip(),
          m.group(4).strip(), "")) : Optional.empty();
    }
  }

  /** A target line read back from a section's text. {@code verdict}: "met", "missed by …" or "did not complete". */
  record Target(String what, String figure, String target, String verdict) {
    private static final Pattern LINE = Pattern.compile(
        "(?m)^- \\*\\*target (met|missed)\\*\\*(?: by (.+?))?: (.+) = (.+?) \\(target ([≤≥] [^)\\n]*)\\)\\s*$"
        + "|^- \\*\\*did not complete\\*\\*: (.*)$");

    static List<Target> in(String section) {
      List<Target> found = new ArrayList<>();
      Matcher m = LINE.matcher(section);
      while (m.find()) {
        if (m.group(6) != null) {
          found.add(new Target("-", "-", "-", "did not complete"));
        } else {
          String verdict = m.group(1).equals("met") ? "met" : "missed by " + m.group(2);
          found.add(new Target(m.group(3), m.group(4), m.group(5), verdict));
        }
      }
      return found;
    }
  }

  /** One scenario's findings. */
  static final class Section {
    final String name;
    final String title;
    final StringBuilder body = new StringBuilder();
    final List<String> verdicts = new ArrayList<>();
    Run run;

    Section(String name, String title) {
      this.name = name;
      this.title = title;
    }

    Section text(String paragraph) {
      body.append(paragraph.strip()).append("\n\n");
      return this;
    }

    Section table(List<String> header, List<List<String>> rows) {
      body.append("| ").append(String.join(" | ", header)).append(" |\n|");
      header.forEach(h -> body.append("---|"));
      body.append('\n');
      for (List<String> r : rows) {
        body.append("| ").append(String.join(" | ", r)).append(" |\n");
      }
      body.append('\n');
      return this;
    }

    /** A target line: met, or missed by how much. {@code lowerIsBetter}: latency-like figures. */
    Section target(String what, double measured, double target, String unit, boolean lowerIsBetter) {
      boolean met = lowerIsBetter ? measured <= target : measured >= target;
      String m = fmt(measured) + unit;
      String t = fmt(target) + unit;
      String line;
      if (met) {
        line = "**target met**: " + what + " = " + m + " (target " + (lowerIsBetter ? "≤ " : "≥ ") + t + ")";
      } else {
        double by = Math.abs(measured - target);
        String pct = target == 0 ? "" : String.format(" (%.0f%%)", 100 * by / target);
        line = "**target missed** by " + fmt(by) + unit + pct + ": " + what + " = " + m + " (target "
            + (lowerIsBetter ? "≤ " : "≥ ") + t + ")";
      }
      verdicts.add(line);
      return this;
    }

    Section verdict(String line) {
      verdicts.add(line);
      return this;
    }

    String markdown() {
      StringBuilder sb = new StringBuilder(heading(title, name)).append("\n\n");
      if (run != null) {
        sb.append(run.markdown());
      }
      sb.append(body);
      verdicts.forEach(v -> sb.append("- ").append(v).append('\n'));
      if (!verdicts.isEmpty()) {
        sb.append('\n');
      }
      return sb.toString();
    }
  }

  /** A part of the file between two {@code ## } headings; {@code key}: the scenario name, or the heading. */
  private record Part(String key, String heading, String text) {}

  private final List<Section> sections = new ArrayList<>();

  Section section(String name, String title) {
    Section s = new Section(name, title);
    sections.add(s);
    return s;
  }

  /** Prints the section as it finishes. */
  static void print(Section s) {
    System.out.println();
    System.out.println(s.markdown());
    System.out.flush();
  }

  private static final Pattern HEADING = Pattern.compile("(?m)^## (.+?)\\s*$");
  private static final Pattern SCENARIO = Pattern.compile("\\(`([a-z0-9-]+)`\\)$");

  static String heading(String title, String name) {
    return "## " + title + " (`" + name + "`)";
  }

  /**
   * Writes {@code header}, the table of current figures, the sections written by hand, and every
   * scenario's section in {@code order}: this run's, and from the existing file those of scenarios
   * that did not run now (each headed by the run it came from).
   */
  void write(Path file, String header, List<String> order) throws IOException {
    Map<String, Part> kept = new LinkedHashMap<>();
    if (Files.exists(file)) {
      parts(Files.readString(file, StandardCharsets.UTF_8)).forEach(p -> kept.put(p.key(), p));
    }
    kept.remove(CURRENT);
    sections.forEach(s -> kept.put(s.name, new Part(s.name, heading(s.title, s.name).substring(3), s.markdown())));
    List<Part> byHand = new ArrayList<>();
    List<Part> scenarios = new ArrayList<>();
    kept.values().forEach(p -> {
      if (order.stream().noneMatch(o -> belongs(p.key(), o))) {
        byHand.add(p);
      }
    });
    for (String o : order) {
      kept.values().stream().filter(p -> belongs(p.key(), o)).forEach(scenarios::add);
    }
    StringBuilder sb = new StringBuilder(header.stripTrailing()).append("\n\n");
    sb.append(currentFigures(scenarios));
    byHand.forEach(p -> sb.append(p.text()));
    scenarios.forEach(p -> sb.append(p.text()));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, sb.toString().stripTrailing() + "\n", StandardCharsets.UTF_8);
  }

  /** One row per target line of the scenario sections, with the run that measured it. */
  private static String currentFigures(List<Part> scenarios) {
    StringBuilder sb = new StringBuilder("## " + CURRENT + "\n\n");
    sb.append("One row per target, from the newest run of its scenario (the section linked in the first column "
        + "holds that run's tables). `./berth bench` rebuilds this table from the sections whenever it writes "
        + "this file.\n\n");
    sb.append("| scenario | target | figure | verdict | command | machine | date |\n|---|---|---|---|---|---|---|\n");
    int rows = 0;
    for (Part p : scenarios) {
      Optional<Run> run = Run.of(p.text());
      for (Target t : Target.in(p.text())) {
        String target = t.what().equals("-") ? "-" : t.what() + " " + t.target();
        sb.append("| [`").append(p.key()).append("`](#").append(anchor(p.heading())).append(") | ")
            .append(target).append(" | ").append(t.figure()).append(" | ").append(t.verdict()).append(" | ")
            .append(run.map(r -> "`" + r.command() + "`").orElse("?")).append(" | ")
            .append(run.map(Run::machine).orElse("?")).append(" | ")
            .append(run.map(Run::date).orElse("?")).append(" |\n");
        rows++;
      }
    }
    if (rows == 0) {
      sb.append("| - | - | - | no scenario has run yet | `./berth bench` | - | - |\n");
    }
    return sb.append('\n').toString();
  }

  private static List<Part> parts(String text) {
    List<Part> parts = new ArrayList<>();
    Matcher m = HEADING.matcher(text);
    List<Integer> starts = new ArrayList<>();
    List<String> headings = new ArrayList<>();
    while (m.find()) {
      starts.add(m.start());
      headings.add(m.group(1));
    }
    for (int i = 0; i < starts.size(); i++) {
      int end = i + 1 < starts.size() ? starts.get(i + 1) : text.length();
      Matcher s = SCENARIO.matcher(headings.get(i));
      String key = s.find() ? s.group(1) : headings.get(i);
      parts.add(new Part(key, headings.get(i), text.substring(starts.get(i), end).stripTrailing() + "\n\n"));
    }
    return parts;
  }

  /** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
  static String anchor(String heading) {
    return heading.toLowerCase(java.util.Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
  }

  /** {@code reclaim-1000} is a variant of {@code reclaim}. */
  private static boolean belongs(String name, String scenario) {
    return name.equals(scenario) || name.startsWith(scenario + "-");
  }

  List<Section> sections() {
    return sections;
  }

  static String fmt(double v) {
    if (Math.abs(v) >= 100 || v == Math.rint(v)) {
      return String.format("%,.0f", v);
    }
    return String.format("%.2f", v);
  }
}
