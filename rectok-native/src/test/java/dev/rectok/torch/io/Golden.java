package dev.rectok.torch.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Locates the read-only golden files shared with the Python reference. */
final class Golden {
  private Golden() {}

  /** {@code -Drectok.golden.dir}, else {@code golden/public} in the repository. */
  static Path dir() {
    String p = System.getProperty("rectok.golden.dir");
    if (p != null && !p.isBlank()) {
      return Path.of(p);
    }
    // surefire runs in the module directory; the repository root is its parent
    Path here = Path.of("").toAbsolutePath();
    Path root = Files.exists(here.resolve("rectok-native")) ? here : here.getParent();
    return root.resolve("golden/public").normalize();
  }

  static List<Path> find(String glob) {
    Path d = dir();
    if (!Files.isDirectory(d)) {
      throw new IllegalStateException(
          "golden directory " + d + " not found; set -Drectok.golden.dir");
    }
    var m = d.getFileSystem().getPathMatcher("glob:" + glob);
    try (Stream<Path> s = Files.walk(d, 2)) {
      return s.filter(f -> m.matches(f.getFileName())).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
