package io.berth.stack.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Light workspace commands for the {@code command} template. */
final class Templates {
  private Templates() {}

  /** An absolute python3 (pyenv shims are shell scripts that cost a fork chain per start). */
  static String python() {
    return executable("/usr/bin/python3", "python3");
  }

  static String socat() {
    return executable("/usr/bin/socat", "socat");
  }

  private static String executable(String preferred, String name) {
    if (new File(preferred).canExecute()) {
      return preferred;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, name);
      if (!dir.isEmpty() && f.canExecute() && !dir.contains("shims")) {
        return f.getAbsolutePath();
      }
    }
    return null;
  }

  /** A directory with one page, served instead of the slot directory (which holds the heartbeat token). */
  static Path www() throws IOException {
    Path dir = Files.createTempDirectory("berth-bench-www");
    Files.writeString(dir.resolve("index.html"), "<html><body>bench workspace</body></html>\n");
    // Readable by others: a boxed slot runs as its own uid (docs/SECURITY.md).
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  static String pythonCommand(Path www) {
    return python() + " -m http.server {port} --bind 127.0.0.1 --directory " + www;
  }
}
