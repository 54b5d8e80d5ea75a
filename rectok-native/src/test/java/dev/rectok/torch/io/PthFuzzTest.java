package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Truncated and byte-flipped copies of a golden torch.save file (and of the small protocol-5
 * fixture): each read succeeds or fails with CheckpointFormatException, within seconds, never with
 * another exception type.
 */
class PthFuzzTest {
  private static Path dir;
  private static byte[] golden;
  private static long pickleStart;
  private static long pickleLen;
  private static byte[] small;

  @BeforeContainer
  static void setUp() throws IOException {
    dir = Files.createTempDirectory("pth-fuzz");
    // the smallest golden checkpoint keeps each try cheap
    Path g = Golden.find("guide_weights.pth").getFirst();
    golden = Files.readAllBytes(g);
    try (ZipFile z = new ZipFile(g.toFile())) {
      ZipEntry pkl =
          z.stream().filter(e -> e.getName().endsWith("/data.pkl")).findFirst().orElseThrow();
      pickleLen = pkl.getCompressedSize();
    }
    // the pickle is the first record: its data follows the local header (30 bytes, name, extra)
    int nameLen = (golden[26] & 0xff) | (golden[27] & 0xff) << 8;
    int extraLen = (golden[28] & 0xff) | (golden[29] & 0xff) << 8;
    pickleStart = 30L + nameLen + extraLen;
    try (InputStream in = PthFuzzTest.class.getResourceAsStream("fixture_p5.pth")) {
      small = in.readAllBytes();
    }
  }

  @AfterContainer
  static void tearDown() throws IOException {
    TestFiles.deleteTree(dir);
  }

  /** Reads; on success materializes every tensor. Returns whether the read succeeded. */
  static boolean readChecked(Path p, String what) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (PthCheckpoint ck = PthReader.read(p);
              Arena a = Arena.ofConfined()) {
            walk(ck.root(), a);
            return true;
          } catch (CheckpointFormatException e) {
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            return false;
          } catch (Throwable t) {
            fail("unexpected " + t + " after " + what, t);
            return false;
          }
        },
        what);
  }

  private static void walk(Object o, Arena a) {
    if (o instanceof PthTensor t) {
      t.toHost(a);
    } else if (o instanceof Map<?, ?> m) {
      m.values().forEach(v -> walk(v, a));
    } else if (o instanceof java.util.List<?> l) {
      l.forEach(v -> walk(v, a));
    }
  }

  @Property(tries = 40)
  void truncatedGoldenCheckpointIsRefused(@ForAll long seed) throws IOException {
    Random r = new Random(seed);
    int len = r.nextInt(golden.length);
    Path p = dir.resolve("trunc.pth");
    Files.write(p, Arrays.copyOf(golden, len));
    assertTrue(!readChecked(p, "truncation to " + len), "a truncated file must not read");
  }

  @Property(tries = 100)
  void byteFlippedGoldenCheckpointFailsCleanly(@ForAll long seed) throws IOException {
    Random r = new Random(seed);
    byte[] b = golden.clone();
    int flips = 1 + r.nextInt(3);
    StringBuilder what = new StringBuilder("flips at");
    for (int i = 0; i < flips; i++) {
      int zone = r.nextInt(4);
      long at =
          switch (zone) {
            case 0, 1 -> pickleStart + (long) (r.nextDouble() * pickleLen); // the pickle
            case 2 -> b.length - 1 - r.nextInt(Math.min(b.length, 12_000)); // central directory
            default -> r.nextInt(b.length);
          };
      b[(int) at] ^= (byte) (1 << r.nextInt(8));
      what.append(' ').append(at);
    }
    Path p = dir.resolve("flip.pth");
    Files.write(p, b);
    Statistics.label("outcome").collect(readChecked(p, what.toString()) ? "read" : "refused");
    Statistics.label("outcome").coverage(c -> c.check("refused").count(n -> n > 0));
  }

  @Property(tries = 100)
  void damagedSmallFixtureFailsCleanly(@ForAll long seed) throws IOException {
    Random r = new Random(seed);
    byte[] b = small.clone();
    String what;
    if (r.nextInt(4) == 0) {
      b = Arrays.copyOf(b, r.nextInt(b.length));
      what = "truncation to " + b.length;
    } else {
      int at = r.nextInt(b.length);
      b[at] = (byte) r.nextInt(256);
      what = "byte " + at + " set";
    }
    Path p = dir.resolve("small.pth");
    Files.write(p, b);
    Statistics.label("outcome").collect(readChecked(p, what) ? "read" : "refused");
    Statistics.label("outcome")
        .coverage(
            c -> {
              c.check("refused").count(n -> n > 0);
              c.check("read").count(n -> n > 0);
            });
  }
}
