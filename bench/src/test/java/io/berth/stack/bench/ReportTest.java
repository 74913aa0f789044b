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

  @Test
  void aRunRewritesItsOwnSectionsAndKeepsTheOthersAndHandWrittenOnes() throws Exception {
    Path file = dir.resolve("BENCHMARKS.md");
    Report first = new Report();
    first.section("warm", "Warm").text("old warm");
    first.section("memory", "Memory").text("old memory");
    first.write(file, "# Benchmarks\n\n", Bench.ALL);
    Files.writeString(file, Files.readString(file).replace("# Benchmarks\n\n",
        "# Benchmarks\n\n## Reading these figures (`analysis`)\n\nby hand\n\n"));

    Report second = new Report();
    second.section("warm", "Warm").text("new warm");
    second.section("reclaim-1000", "Reclaim 1000").text("big reclaim");
    second.write(file, "# Benchmarks (new header)\n\n", Bench.ALL);

    String out = Files.readString(file);
    assertTrue(out.startsWith("# Benchmarks (new header)\n\n## Reading these figures (`analysis`)"), out);
    assertTrue(out.contains("new warm") && !out.contains("old warm"), out);
    assertTrue(out.contains("old memory") && out.contains("by hand"), out);
    List<String> order = List.of("(`analysis`)", "(`warm`)", "(`reclaim-1000`)", "(`memory`)");
    int at = -1;
    for (String heading : order) {
      int i = out.indexOf(heading);
      assertTrue(i > at, heading + " out of order in\n" + out);
      at = i;
    }
  }
}
