package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pieces of evaluation over ranks that run in one process: {@link ImageSource#chunk} and {@link
 * ImageSource#skip} split a set among {@code W} readers exactly as {@link ImageSource#next} reads
 * it alone (pixels and skip counts), and {@link EvalParallel#forEachChunk} in a world of one is the
 * plain loop. The two-process runs are {@code DistributedSampleEvalTest} (CLI).
 */
class EvalParallelTest {
  private static BufferedImage rgb(long seed) {
    BufferedImage img = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
    Random r = new Random(seed);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        img.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    return img;
  }

  private static Path folder(Path dir, int n, int bad) throws IOException {
    Files.createDirectories(dir);
    for (int i = 0; i < n; i++) {
      BufferedImage img = i == bad ? new BufferedImage(5, 3, BufferedImage.TYPE_BYTE_GRAY) : rgb(i);
      ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", i)).toFile());
    }
    return dir;
  }

  private static Path npz(Path file, int n) throws IOException {
    try (Npz.Writer w = Npz.create(file, false)) {
      w.beginBytes("arr_0", n, 3, 5, 3);
      for (int i = 0; i < n; i++) {
        byte[] hwc = new byte[3 * 5 * 3];
        new Random(i).nextBytes(hwc);
        w.write(hwc);
      }
      w.commit();
    }
    return file;
  }

  private static byte[] alone(Path p, int batch) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageSource src = ImageSource.open(p, true, 2)) {
      ImageSource.Batch b;
      while ((b = src.next(batch)) != null) {
        out.writeBytes(b.pixels());
      }
    }
    return out.toByteArray();
  }

  // W readers, reader r taking chunks r, r + W, ...; the chunks put back in order
  private static byte[] shared(Path p, int batch, int w, long[] skipped) throws IOException {
    List<byte[]> chunks = new ArrayList<>();
    for (int r = 0; r < w; r++) {
      try (ImageSource src = ImageSource.open(p, true, 2)) {
        for (int c = 0; c < Math.ceilDiv(src.size(), batch); c++) {
          while (chunks.size() <= c) {
            chunks.add(null);
          }
          if (c % w == r) {
            ImageSource.Batch b = src.chunk(batch);
            assertThat(b.pixels().length).isEqualTo(b.n() * 3 * 5 * 3);
            chunks.set(c, b.pixels());
          } else {
            src.skip(batch);
          }
        }
        assertThat(src.chunk(batch)).isNull();
        skipped[0] += src.skipped();
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    chunks.forEach(out::writeBytes);
    return out.toByteArray();
  }

  @Test
  void readersSharingASetByChunkReadWhatOneReaderReads(@TempDir Path tmp) throws Exception {
    Path a = npz(tmp.resolve("a.npz"), 7);
    Path f = folder(tmp.resolve("f"), 7, 3);
    for (int batch = 1; batch <= 4; batch++) {
      for (int w = 1; w <= 3; w++) {
        long[] skipped = {0};
        assertThat(shared(a, batch, w, skipped)).isEqualTo(alone(a, batch));
        assertThat(skipped[0]).isZero();
        skipped[0] = 0;
        byte[] s = shared(f, batch, w, skipped);
        assertThat(s).as("batch %d, %d readers", batch, w).isEqualTo(alone(f, batch));
        assertThat(s).hasSize(6 * 45);
        assertThat(skipped[0]).isEqualTo(1);
      }
    }
  }

  @Test
  void aWorldOfOneIsThePlainLoopAndChecksItsChunks() throws Exception {
    List<Integer> order = new ArrayList<>();
    EvalParallel.forEachChunk(
        5,
        2,
        3,
        (c, mine) -> {
          assertThat(mine).isTrue();
          return new EvalParallel.Chunk(new float[] {c, c, c}, 1, 0);
        },
        (c, r) -> {
          assertThat(r.values()).containsExactly(c, c, c);
          order.add(c);
        });
    assertThat(order).containsExactly(0, 1, 2, 3, 4);
    assertThatThrownBy(
            () ->
                EvalParallel.forEachChunk(
                    1, 2, 3, (c, mine) -> new EvalParallel.Chunk(new float[4], 1, 0), (c, r) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4 values for 1 rows of 3");
    assertThatThrownBy(
            () ->
                EvalParallel.forEachChunk(
                    1, 2, 1, (c, mine) -> new EvalParallel.Chunk(new float[3], 3, 0), (c, r) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 2 rows");
  }
}
