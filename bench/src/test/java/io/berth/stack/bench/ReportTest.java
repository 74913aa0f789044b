package io.berth.stack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  @TempDir
  Path dir;

  @Test
  void percentilesAreNearestRank() {
    Stats s = Stats.of(new double[] {5, 1, 4, 2, 3, 6, 7, 8, 9, 10});
    assertEquals(5, s.p(50));
    assertEquals(10, s.p(99));
    assertEquals(1, s.p(1));
    assertEquals(10, s.max());
  }

  @Test
  void targetLinesSayMetOrMissedAndByHowMuch() {
    Report r = new Report();
    Report.Section s = r.section("warm", "Warm");
    s.target("p50", 250, 200, " ms", true);
    s.target("rate", 2500, 2000, "/s", false);
    assertTrue(s.verdicts.get(0).startsWith("**target missed** by 50 ms (25%)"), s.verdicts.get(0));
    assertTrue(s.verdicts.get(1).startsWith("**target met**"), s.verdicts.get(1));
  }

  private static final Report.Run MONDAY =
      new Report.Run("./berth bench warm", "AMD EPYC, 2 cores, 23.5 GiB RAM", "2026-12-07T10:00:00Z", "abc1234",
          "Took 60 s; load average (1/5/15 min) 1.00 1.00 1.00 at the start, 2.00 2.00 2.00 at the end.");
  private static final Report.Run TUESDAY =
      new Report.Run("./berth bench memory --memory-n 10", "Intel(R) Xeon(R) Processor, 2 cores, 23.5 GiB RAM",
          "2026-12-08T11:00:00Z", "def5678", "");

  @Test
  void aRunRewritesItsOwnSectionsAndKeepsTheOthersAndHandWrittenOnes() throws Exception {
    Path file = dir.resolve("BENCHMARKS.md");
    Report first = new Report();
    first.section("warm", "Warm").text("old warm");
    first.section("memory", "Memory").text("old memory");
    first.write(file, "# Benchmarks\n\n", Bench.ALL);
    Files.writeString(file, Files.readString(file).replace("## Warm (`warm`)",
        "## How to read them\n\nby hand\n\n### A part of it\n\nalso by hand\n\n## Method\n\nhow\n\n## Warm (`warm`)"));

    Report second = new Report();
    second.section("warm", "Warm").text("new warm");
    second.section("reclaim-1000", "Reclaim 1000").text("big reclaim");
    second.write(file, "# Benchmarks (new header)\n\n", Bench.ALL);

    String out = Files.readString(file);
    assertTrue(out.startsWith("# Benchmarks (new header)\n\n## Current figures\n"), out);
    assertTrue(out.contains("new warm") && !out.contains("old warm"), out);
    assertTrue(out.contains("old memory") && out.contains("by hand") && out.contains("also by hand"), out);
    assertInOrder(out, "## Current figures", "## How to read them", "### A part of it", "## Method", "(`warm`)",
        "(`reclaim-1000`)", "(`memory`)");
  }

  @Test
  void aSectionIsHeadedByTheRunThatProducedIt() {
    Report.Section s = new Report().section("warm", "Warm allocation latency");
    s.run = MONDAY;
    s.text("figures");
    String md = s.markdown();
    assertTrue(md.startsWith("## Warm allocation latency (`warm`)\n\n| command | machine | date | commit |\n"), md);
    assertTrue(md.contains("| `./berth bench warm` | AMD EPYC, 2 cores, 23.5 GiB RAM | 2026-12-07T10:00:00Z | abc1234 |"),
        md);
    assertInOrder(md, "| command |", "Took 60 s", "figures");
    Report.Run back = Report.Run.of(md).orElseThrow();
    assertEquals(new Report.Run(MONDAY.command(), MONDAY.machine(), MONDAY.date(), MONDAY.commit(), ""), back);
    assertTrue(Report.Run.of("## Warm (`warm`)\n\nno run named\n").isEmpty());
  }

  @Test
  void theTableOfCurrentFiguresHasOneRowPerTargetWithTheRunThatMeasuredIt() throws Exception {
    Path file = dir.resolve("BENCHMARKS.md");
    Report first = new Report();
    Report.Section warm = first.section("warm", "Warm allocation latency");
    warm.run = MONDAY;
    warm.target("p50 at 10 concurrent", 250, 200, " ms", true);
    warm.target("p99 at 10 concurrent", 300, 600, " ms", true);
    warm.verdict("a note, not a target");
    Report.Section memory = first.section("memory", "Heap with idle workspaces");
    memory.run = MONDAY;
    memory.verdict("**did not complete**: java.lang.IllegalStateException: no Redis");
    first.write(file, "# Benchmarks\n\n", Bench.ALL);

    Report second = new Report();
    Report.Section again = second.section("memory", "Heap with idle workspaces");
    again.run = TUESDAY;
    again.target("heap with 10 idle workspaces (a = b)", 65.21, 1024, " MB", true);
    second.write(file, "# Benchmarks\n\n", Bench.ALL);

    String out = Files.readString(file);
    List<String> rows = table(out, "## Current figures");
    assertEquals(List.of(
        "| [`warm`](#warm-allocation-latency-warm) | p50 at 10 concurrent ≤ 200 ms | 250 ms | missed by 50 ms (25%) "
            + "| `./berth bench warm` | AMD EPYC, 2 cores, 23.5 GiB RAM | 2026-12-07T10:00:00Z |",
        "| [`warm`](#warm-allocation-latency-warm) | p99 at 10 concurrent ≤ 600 ms | 300 ms | met "
            + "| `./berth bench warm` | AMD EPYC, 2 cores, 23.5 GiB RAM | 2026-12-07T10:00:00Z |",
        "| [`memory`](#heap-with-idle-workspaces-memory) | heap with 10 idle workspaces (a = b) ≤ 1,024 MB | 65.21 MB | met "
            + "| `./berth bench memory --memory-n 10` | Intel(R) Xeon(R) Processor, 2 cores, 23.5 GiB RAM "
            + "| 2026-12-08T11:00:00Z |"), rows);
    assertEquals(out.indexOf("## Current figures"), out.lastIndexOf("## Current figures"), out);
    assertTrue(!out.contains("did not complete"), out);

    Report third = new Report();
    third.section("warm", "Warm allocation latency").verdict("**did not complete**: java.io.IOException: gone");
    third.write(file, "# Benchmarks\n\n", Bench.ALL);
    assertEquals("| [`warm`](#warm-allocation-latency-warm) | - | - | did not complete | ? | ? | ? |",
        table(Files.readString(file), "## Current figures").get(0));
  }

  @Test
  void anchorsAreTheOnesGitHubGivesTheHeadings() {
    assertEquals("idle-reclaim-lateness-1000-workspaces-reclaim-1000",
        Report.anchor("Idle-reclaim lateness, 1000 workspaces (`reclaim-1000`)"));
    assertEquals("capacity-burst-and-a-compressed-day-capacity",
        Report.anchor("Capacity: burst and a compressed day (`capacity`)"));
  }

  /**
   * docs/BENCHMARKS.md is in the shape the bench writes: every scenario section names its run, and
   * writing the file again without a new section changes nothing (its table matches its sections).
   */
  @Test
  void theRepositorysBenchmarksFileIsWhatTheBenchWouldWrite() throws Exception {
    Path docs = Path.of("..", "docs", "BENCHMARKS.md");
    String before = Files.readString(docs);
    Path copy = dir.resolve("BENCHMARKS.md");
    Files.writeString(copy, before);
    new Report().write(copy, Bench.header(), Bench.ALL);
    assertEquals(before, Files.readString(copy));
    for (String scenario : Bench.ALL) {
      int at = before.indexOf("(`" + scenario + "`)\n");
      assertTrue(at > 0, scenario + " has no section");
      int next = before.indexOf("\n## ", at);
      String section = before.substring(at, next < 0 ? before.length() : next);
      assertTrue(Report.Run.of(section).isPresent(), scenario + " names no run");
    }
  }

  @Test
  void aRunNamesTheMachineByModelAndCoresAndTheCommitByItsHash() {
    Bench.Setup setup = Bench.Setup.ofThisMachine();
    assertTrue(setup.machine().matches(".+, " + Runtime.getRuntime().availableProcessors() + " cores, [0-9.?]+ GiB RAM"),
        setup.machine());
    assertTrue(setup.commit().matches("[0-9a-f]{7,}( \\+ uncommitted changes)?|unknown"), setup.commit());
    assertTrue(setup.software().startsWith("Java " + System.getProperty("java.runtime.version")), setup.software());
  }

  private static List<String> table(String text, String heading) {
    List<String> lines = text.substring(text.indexOf(heading)).lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("| scenario |")).findFirst().orElseThrow());
    return lines.subList(header + 2, lines.size()).stream().takeWhile(l -> l.startsWith("|")).toList();
  }

  private static void assertInOrder(String text, String... parts) {
    int at = -1;
    for (String part : parts) {
      int i = text.indexOf(part, at + 1);
      assertTrue(i > at, part + " out of order in\n" + text);
      at = i;
    }
  }
}
