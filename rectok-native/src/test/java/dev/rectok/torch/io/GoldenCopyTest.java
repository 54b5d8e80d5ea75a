package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestReporter;

/**
 * The repository's {@code golden/public} must be a byte-identical copy of the golden set it was
 * taken from, {@code ../shared/golden/public} beside the repository root, whenever that folder
 * exists (see docs/golden-format.md#provenance). Where it does not exist (a plain clone) there is
 * nothing to compare and the test passes, saying so in its display name and in a reported entry.
 *
 * <p>The one permitted difference: a {@code README.md} in the repository copy may end with a single
 * appended pointer paragraph that starts with {@link #POINTER}; it is removed before hashing, so
 * every other byte of every file is still compared.
 */
class GoldenCopyTest {
  /** Prefix of the one line this repository appends to a golden README (docs pointer). */
  static final String POINTER = "> RecTok for Java:";

  /** The repository's golden folder: {@code golden/public} under the repository root. */
  static Path repoCopy() {
    Path here = Path.of("").toAbsolutePath();
    Path root = Files.exists(here.resolve("rectok-native")) ? here : here.getParent();
    return root.resolve("golden/public").normalize();
  }

  /** {@code -Drectok.golden.shared}, else {@code ../shared/golden/public} beside the root. */
  static Path sharedCopy() {
    String p = System.getProperty("rectok.golden.shared");
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath().normalize();
    }
    Path root = repoCopy().getParent().getParent();
    return root.resolveSibling("shared").resolve("golden/public").normalize();
  }

  @TestFactory
  List<DynamicTest> everyGoldenFileMatchesTheSharedCopy(TestReporter reporter) throws IOException {
    Path repo = repoCopy();
    Path shared = sharedCopy();
    assertTrue(Files.isDirectory(repo), "the repository's golden folder " + repo + " is missing");
    if (!Files.isDirectory(shared)) {
      String note = "no shared copy at " + shared + ": nothing to compare, passes";
      reporter.publishEntry("golden-copy", note);
      System.out.println("[golden-copy] " + note); // surefire drops report entries; keep a trace
      return List.of(DynamicTest.dynamicTest(note, () -> {}));
    }
    String note = "comparing " + repo + " with " + shared;
    reporter.publishEntry("golden-copy", note);
    System.out.println("[golden-copy] " + note);
    List<String> repoFiles = relativeFiles(repo);
    List<String> sharedFiles = relativeFiles(shared);
    List<DynamicTest> tests = new ArrayList<>();
    tests.add(
        DynamicTest.dynamicTest(
            "same file list (" + sharedFiles.size() + " files)",
            () -> assertEquals(sharedFiles, repoFiles, "files under " + repo + " vs " + shared)));
    TreeSet<String> both = new TreeSet<>(repoFiles);
    both.retainAll(sharedFiles);
    for (String rel : both) {
      tests.add(
          DynamicTest.dynamicTest(
              "sha256 " + rel,
              () ->
                  assertEquals(
                      sha256(shared.resolve(rel), false),
                      sha256(repo.resolve(rel), true),
                      rel + " differs from the shared copy " + shared.resolve(rel))));
    }
    return tests;
  }

  @Test
  void pointerParagraphIsRemovedAndNothingElse() {
    byte[] original = "# x\n\nbody line\n".getBytes(StandardCharsets.UTF_8);
    byte[] withPointer =
        ("# x\n\nbody line\n\n" + POINTER + " see docs/golden-format.md.\n")
            .getBytes(StandardCharsets.UTF_8);
    assertEquals(HexFormat.of().formatHex(original), HexFormat.of().formatHex(strip(withPointer)));
    // a pointer that is not the last paragraph is not removed: the edit must stay an append
    byte[] inside = ("# x\n\n" + POINTER + " y\n\nbody line\n").getBytes(StandardCharsets.UTF_8);
    assertEquals(HexFormat.of().formatHex(inside), HexFormat.of().formatHex(strip(inside)));
    // an edited body is still seen as a difference
    byte[] edited = ("# x\n\nbody LINE\n\n" + POINTER + " z\n").getBytes(StandardCharsets.UTF_8);
    assertFalse(HexFormat.of().formatHex(original).equals(HexFormat.of().formatHex(strip(edited))));
  }

  /** Sorted '/'-separated paths of every regular file under {@code dir}. */
  private static List<String> relativeFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .map(f -> dir.relativize(f).toString().replace('\\', '/'))
          .sorted()
          .toList();
    }
  }

  private static String sha256(Path file, boolean repoSide) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      if (repoSide && file.getFileName().toString().equals("README.md")) {
        md.update(strip(Files.readAllBytes(file)));
      } else {
        try (InputStream in = Files.newInputStream(file)) {
          byte[] buf = new byte[1 << 16];
          for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
          }
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  /** Removes a trailing "\n" + POINTER paragraph (one line, ending the file), if present. */
  static byte[] strip(byte[] readme) {
    String s = new String(readme, StandardCharsets.UTF_8);
    int at = s.lastIndexOf("\n\n" + POINTER);
    if (at < 0) {
      return readme;
    }
    String tail = s.substring(at + 2);
    boolean oneLastLine = tail.endsWith("\n") && tail.indexOf('\n') == tail.length() - 1;
    return oneLastLine ? s.substring(0, at + 1).getBytes(StandardCharsets.UTF_8) : readme;
  }
}
