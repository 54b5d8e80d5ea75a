package dev.rectok.torch.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.ImageLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Issue 10, as laws over generated hostile inputs: reading is bounded by the file (not by what it
 * claims), and every refusal is a CheckpointFormatException or IOException naming the file.
 */
class HostileInputPropertyTest {
  private static Path dir;

  @BeforeContainer
  static void setUp() throws IOException {
    dir = Files.createTempDirectory("hostile");
  }

  @AfterContainer
  static void tearDown() throws IOException {
    TestFiles.deleteTree(dir);
  }

  /**
   * Memo DAGs of any depth and fan-out: accepted exactly when their tree size is within the budget
   * linear in the pickle's length, and an accepted result walks as a tree within it.
   */
  @Property(tries = 60)
  void memoSharingIsAcceptedOnlyWithinTheLinearBudget(
      @ForAll @IntRange(min = 1, max = 200) int depth,
      @ForAll @IntRange(min = 1, max = 6) int fanout)
      throws IOException {
    byte[] pickle = HostileFiles.memoBomb(Math.min(depth, 255), fanout);
    long budget = InputLimits.maxPickleNodes(pickle.length);
    long tree = HostileFiles.memoBombTreeSize(Math.min(depth, 255), fanout);
    Path f = PickleWriter.zip(dir.resolve("memo.pth"), PickleWriter.records(pickle), false);
    long started = System.nanoTime();
    try (PthCheckpoint c = PthReader.read(f)) {
      assertThat(tree)
          .as("accepted a tree of %d nodes over the budget %d", tree, budget)
          .isLessThanOrEqualTo(budget);
      assertThat(walk(c.root())).isEqualTo(tree);
    } catch (CheckpointFormatException e) {
      assertThat(tree).as(e.getMessage()).isGreaterThan(budget);
      assertThat(e.getMessage()).contains("memo.pth", "memo-reference bomb");
    }
    assertThat(System.nanoTime() - started).as("nanoseconds").isLessThan(5_000_000_000L);
  }

  private static long walk(Object o) {
    long n = 1;
    if (o instanceof List<?> l) {
      for (Object c : l) {
        n += walk(c);
      }
    }
    return n;
  }

  /**
   * A deflated data.pkl of any inflated size: read when within the limit, refused in constant
   * memory (the limit lowered to 1 MiB here) when over it, whatever size the zip declares.
   */
  @Property(tries = 25)
  void decompressedPickleSizeIsBounded(@ForAll @LongRange(min = 1, max = 8L << 20) long inflated)
      throws IOException {
    String old = System.setProperty("rectok.io.maxPickleBytes", Long.toString(1 << 20));
    try {
      Path f = HostileFiles.pickleBomb(dir.resolve("zeros.pth"), inflated);
      try (PthCheckpoint c = PthReader.read(f)) {
        throw new AssertionError("read a pickle of zeros: " + c.root());
      } catch (CheckpointFormatException e) {
        if (inflated > (1 << 20)) {
          assertThat(e.getMessage())
              .contains("zeros.pth", "decompresses to more than 1048576 bytes");
        } else {
          assertThat(e.getMessage()).contains("zeros.pth").doesNotContain("decompresses");
        }
      }
    } finally {
      if (old == null) {
        System.clearProperty("rectok.io.maxPickleBytes");
      } else {
        System.setProperty("rectok.io.maxPickleBytes", old);
      }
    }
  }

  /**
   * PNG headers declaring any size up to 2^31-1 per side: over the pixel limit (lowered to one
   * megapixel here) refused from the header naming the file and the limit; within it decoded or
   * refused as damaged, always an IOException.
   */
  @Property(tries = 80)
  void pngHeadersOfAnySizeGiveAnImageOrAClearRefusal(
      @ForAll @LongRange(min = 1, max = Integer.MAX_VALUE) long w,
      @ForAll @LongRange(min = 1, max = Integer.MAX_VALUE) long h,
      @ForAll @IntRange(min = 0, max = 4096) int idat)
      throws IOException {
    String old = System.setProperty(ImageLimits.MAX_PIXELS_PROPERTY, "1000000");
    try {
      Path f = dir.resolve("header.png");
      Files.write(f, HostileFiles.png(w, h, idat));
      try {
        var img = AdmPreprocess.read(f);
        assertThat((long) img.width() * img.height()).isLessThanOrEqualTo(1_000_000L);
      } catch (IOException e) {
        assertThat(e.getMessage()).contains("header.png");
        if (w * h > 1_000_000L) {
          assertThat(e.getMessage()).contains("1000000-pixel limit");
        }
      }
    } finally {
      if (old == null) {
        System.clearProperty(ImageLimits.MAX_PIXELS_PROPERTY);
      } else {
        System.setProperty(ImageLimits.MAX_PIXELS_PROPERTY, old);
      }
    }
  }

  /**
   * Zip entries of a checkpoint whose data.pkl is stored but declares a size larger than it holds.
   */
  @Property(tries = 20)
  void lyingDeclaredSizesAreRefused(
      @ForAll @LongRange(min = 1L << 27, max = 0xffff_fffeL) long declared) throws IOException {
    byte[] pickle = new PickleWriter().proto(2).emptyDict().stop().bytes();
    Path f = PickleWriter.zip(dir.resolve("lying.pth"), PickleWriter.records(pickle), false);
    byte[] b = Files.readAllBytes(f);
    // patch the uncompressed size of data.pkl in the central directory (signature PK\1\2, +24)
    List<Integer> central = new ArrayList<>();
    for (int i = 0; i + 4 <= b.length; i++) {
      if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 1 && b[i + 3] == 2) {
        central.add(i);
      }
    }
    int at = central.getFirst() + 24;
    for (int k = 0; k < 4; k++) {
      b[at + k] = (byte) (declared >>> (8 * k));
    }
    Files.write(f, b);
    try (PthCheckpoint c = PthReader.read(f)) {
      assertThat(c.root()).isEqualTo(Map.of()); // the declared size was not believed
    } catch (CheckpointFormatException e) {
      assertThat(e.getMessage()).contains("lying.pth");
    }
  }
}
