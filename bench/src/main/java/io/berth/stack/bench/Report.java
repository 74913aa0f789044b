package io.berth.stack.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a scenario found: tables, target verdicts and notes, printed at once and kept for BENCHMARKS.md. */
final class Report {
  /** One scenario's findings. */
  static final class Section {
    final String name;
    final String title;
    final StringBuilder body = new StringBuilder();
    final List<String> verdicts = new ArrayList<>();
    String run = "";

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
      StringBuilder sb = new StringBuilder("## " + title + " (`" + name + "`)\n\n");
      if (!run.isEmpty()) {
        sb.append(run).append("\n\n");
      }
      sb.append(body);
      verdicts.forEach(v -> sb.append("- ").append(v).append('\n'));
      if (!verdicts.isEmpty()) {
        sb.append('\n');
      }
      return sb.toString();
    }
  }

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

  private static final Pattern HEADING = Pattern.compile("(?m)^## .*\\(`([a-z0-9-]+)`\\)\\s*$");

  /**
   * Writes {@code header} and every section: this run's, and from the existing file those of
   * scenarios that did not run now (each section names the run it came from). Sections the
   * bench does not know (a hand-written analysis) stay first.
   */
  void write(Path file, String header, List<String> order) throws IOException {
    Map<String, String> kept = new LinkedHashMap<>();
    if (Files.exists(file)) {
      String old = Files.readString(file, StandardCharsets.UTF_8);
      Matcher m = HEADING.matcher(old);
      List<int[]> starts = new ArrayList<>();
      List<String> names = new ArrayList<>();
      while (m.find()) {
        starts.add(new int[] {m.start()});
        names.add(m.group(1));
      }
      for (int i = 0; i < names.size(); i++) {
        int end = i + 1 < names.size() ? starts.get(i + 1)[0] : old.length();
        kept.put(names.get(i), old.substring(starts.get(i)[0], end).stripTrailing() + "\n\n");
      }
    }
    sections.forEach(s -> kept.put(s.name, s.markdown()));
    StringBuilder sb = new StringBuilder(header);
    kept.forEach((name, text) -> {
      if (order.stream().noneMatch(o -> belongs(name, o))) {
        sb.append(text);
      }
    });
    for (String o : order) {
      kept.forEach((name, text) -> {
        if (belongs(name, o)) {
          sb.append(text);
        }
      });
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, sb.toString().stripTrailing() + "\n", StandardCharsets.UTF_8);
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
