package io.berth.stack;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What ships carries no test library: the worker's and the API's runtime classpath (the jars their
 * Dockerfiles copy from {@code target/lib}) and the one of {@code ./berth up} (this module's). Each
 * module lists its runtime artifacts into {@code target/runtime-artifacts.txt} at generate-resources
 * ({@code dependency:list}), so the lists exist whenever this module's tests run.
 */
class RuntimeClasspathTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
  /** A listed artifact: {@code group:artifact:type[:classifier]:version:scope}, indented. */
  private static final Pattern ARTIFACT = Pattern.compile("^\\s+([^:\\s]+):([^:\\s]+):\\S+");

  @Test
  void theWorkerImageCarriesNoTestLibraryAndNoTestServer() throws IOException {
    List<String> artifacts = artifacts("worker");
    assertTrue(artifacts.contains("temporal-sdk"), "the list is the worker's: " + artifacts);
    assertNoTestLibrary("worker", artifacts);
    assertFalse(artifacts.contains("temporal-testing"), "the worker connects to a cluster only: " + artifacts);
    assertLibHolds("worker", artifacts);
  }

  @Test
  void theApiImageCarriesNoTestLibraryAndNoTestServer() throws IOException {
    List<String> artifacts = artifacts("api");
    assertTrue(artifacts.contains("micronaut-http-server-netty"), "the list is the api's: " + artifacts);
    assertNoTestLibrary("api", artifacts);
    assertFalse(artifacts.contains("temporal-testing"), "the api connects to a cluster only: " + artifacts);
    assertLibHolds("api", artifacts);
  }

  /** {@code ./berth up} runs the test server (its Temporal), but nothing made for tests. */
  @Test
  void berthUpCarriesTheTestServerButNoTestLibrary() throws IOException {
    List<String> artifacts = artifacts("stack");
    assertTrue(artifacts.contains("temporal-testing"), "the embedded launcher runs Temporal's test server");
    assertNoTestLibrary("stack", artifacts);
    String classpath = Files.readString(ROOT.resolve("stack/target/classpath.txt"));
    for (String entry : classpath.trim().split(java.io.File.pathSeparator)) {
      String name = Path.of(entry).getFileName().toString();
      assertFalse(name.startsWith("junit-") || name.startsWith("opentest4j-") || name.startsWith("berth-testkit-")
          || entry.endsWith("testkit/target/classes"), "./berth up's classpath holds " + entry);
    }
  }

  private static void assertNoTestLibrary(String module, List<String> artifacts) {
    for (String a : artifacts) {
      assertFalse(isTestLibrary(a), module + "'s runtime classpath holds " + a);
    }
  }

  static boolean isTestLibrary(String artifactId) {
    return artifactId.startsWith("junit") || artifactId.equals("opentest4j") || artifactId.equals("berth-testkit")
        || artifactId.startsWith("micronaut-test") || artifactId.equals("apiguardian-api");
  }

  @Test
  void theTestLibraryCheckKnowsTheLibraries() {
    for (String a : Set.of("junit-jupiter-api", "junit-platform-commons", "opentest4j", "berth-testkit",
        "micronaut-test-junit5", "micronaut-test-core")) {
      assertTrue(isTestLibrary(a), a);
    }
    assertFalse(isTestLibrary("temporal-sdk"));
  }

  /**
   * After {@code package}, target/lib (what the image copies) has a jar of every listed artifact: the
   * list is the copy's. Extra jars there are an earlier build's (copy-dependencies never deletes);
   * the image builds from sources ({@code .dockerignore} leaves every target/ out).
   */
  private static void assertLibHolds(String module, List<String> artifacts) throws IOException {
    Path lib = ROOT.resolve(module).resolve("target/lib");
    if (!Files.isDirectory(lib)) {
      return; // not packaged in this build
    }
    try (Stream<Path> jars = Files.list(lib)) {
      List<String> names = jars.map(p -> p.getFileName().toString()).toList();
      for (String a : artifacts) {
        assertTrue(names.stream().anyMatch(n -> n.startsWith(a + "-")), module + "/target/lib has no " + a);
      }
    }
  }

  private static List<String> artifacts(String module) throws IOException {
    Path list = ROOT.resolve(module).resolve("target/runtime-artifacts.txt");
    assertTrue(Files.isRegularFile(list), list + " (written by mvn at generate-resources)");
    return Files.readAllLines(list).stream()
        .map(ARTIFACT::matcher)
        .filter(Matcher::find)
        .map(m -> m.group(2))
        .toList();
  }
}
