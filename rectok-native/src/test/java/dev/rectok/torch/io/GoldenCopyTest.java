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
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The repository's {@code golden/public} must be a byte-identical copy of the upstream golden set
 * it was taken from. {@code golden/public.sha256} records that set's SHA-256 per file ({@code
 * sha256sum} format); this test checks every file of the copy against it, so a clone needs nothing
 * outside the repository. Maintainers check the upstream set against the same record with {@code
 * sha256sum -c} (docs/golden-format.md#provenance).
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

  @TestFactory
  List<DynamicTest> everyGoldenFileMatchesTheRecordedHash() throws IOException {
    Path repo = repoCopy();
    Path record = repo.resolveSibling("public.sha256");
    assertTrue(Files.isDirectory(repo), "the repository's golden folder " + repo + " is missing");
    Map<String, String> expected = new TreeMap<>();
    for (String line : Files.readAllLines(record, StandardCharsets.UTF_8)) {
      String[] f = line.split("  ", 2);
      assertEquals(2, f.length, record + ": not a sha256sum line: " + line);
      expected.put(f[1], f[0]);
    }
    List<String> repoFiles = relativeFiles(repo);
    List<DynamicTest> tests = new ArrayList<>();
    tests.add(
        DynamicTest.dynamicTest(
            "same file list (" + expected.size() + " files)",
            () ->
                assertEquals(
                    List.copyOf(expected.keySet()),
                    repoFiles,
                    "files under " + repo + " vs " + record)));
    TreeSet<String> both = new TreeSet<>(repoFiles);
    both.retainAll(expected.keySet());
    for (String rel : both) {
      tests.add(
          DynamicTest.dynamicTest(
              "sha256 " + rel,
              () ->
                  assertEquals(
                      expected.get(rel),
                      sha256(repo.resolve(rel)),
                      rel + " differs from the upstream hash recorded in " + record)));
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

  private static String sha256(Path file) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      if (file.getFileName().toString().equals("README.md")) {
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
