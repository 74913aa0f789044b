package io.berth.stack.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a scenario found: tables, target verdicts and notes, printed at once and kept for BENCHMARKS.md. */
final class Report {
  /** One scenario's findings. */
  static final class Section {
    final String name;
    final String title;
    final StringBuilder body = new StringBuilder();
    final List<String> verdicts = new ArrayList<>();

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
      StringBuilder sb = new StringBuilder("## " + title + " (`" + name + "`)\n\n").append(body);
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

  void write(Path file, String header, String footer) throws IOException {
    StringBuilder sb = new StringBuilder(header);
    sections.forEach(s -> sb.append(s.markdown()));
    sb.append(footer);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  static String fmt(double v) {
    if (Math.abs(v) >= 100 || v == Math.rint(v)) {
      return String.format("%,.0f", v);
    }
    return String.format("%.2f", v);
  }
}
