package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image folders and npz batches: same pixels either way; bad files are errors naming them, or
 * counted skips.
 */
class ImageSourceTest {
  private static BufferedImage rgb(int w, int h, long seed) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    return img;
  }

  private static Path folder(Path dir, int n) throws IOException {
    Files.createDirectories(dir);
    for (int i = 0; i < n; i++) {
      ImageIO.write(rgb(6, 4, i), "png", dir.resolve(String.format("%03d.png", i)).toFile());
    }
    return dir;
  }

  private static byte[] readAll(ImageSource src, int batch) throws IOException {
    var out = new java.io.ByteArrayOutputStream();
    ImageSource.Batch b;
    while ((b = src.next(batch)) != null) {
      out.writeBytes(b.pixels());
    }
    return out.toByteArray();
  }

  @Test
  void aFolderAndItsNpzGiveTheSamePixelsForAnyBatchSize(@TempDir Path tmp) throws Exception {
    Path dir = folder(tmp.resolve("imgs"), 5);
    Path npz = tmp.resolve("s.npz");
    try (Npz.Writer w = Npz.create(npz, true)) {
      w.beginBytes("arr_0", 5, 4, 6, 3);
      for (int i = 0; i < 5; i++) {
        BufferedImage img = ImageIO.read(dir.resolve(String.format("%03d.png", i)).toFile());
        byte[] hwc = new byte[4 * 6 * 3];
        for (int p = 0; p < 24; p++) {
          int v = img.getRGB(p % 6, p / 6);
          hwc[p * 3] = (byte) (v >> 16);
          hwc[p * 3 + 1] = (byte) (v >> 8);
          hwc[p * 3 + 2] = (byte) v;
        }
        w.write(hwc);
      }
      w.commit();
    }
    byte[] a;
    try (ImageSource s = ImageSource.open(dir, false, 2)) {
      assertThat(s.size()).isEqualTo(5);
      a = readAll(s, 2);
    }
    try (ImageSource s = ImageSource.open(npz, false, 1)) {
      assertThat(readAll(s, 3)).isEqualTo(a);
    }
    try (ImageSource s = ImageSource.open(dir, false, 1)) {
      assertThat(readAll(s, 5)).isEqualTo(a);
    }
  }

  @Test
  void mixedSizesWrongChannelsAndUnreadableFilesAreNamed(@TempDir Path tmp) throws Exception {
    Path dir = folder(tmp.resolve("mixed"), 3);
    ImageIO.write(rgb(5, 4, 9), "png", dir.resolve("010.png").toFile());
    try (ImageSource s = ImageSource.open(dir, false, 2)) {
      assertThatThrownBy(() -> readAll(s, 10))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("010.png")
          .hasMessageContaining("one size")
          .hasMessageContaining("--skip-bad");
    }
    Path gray = folder(tmp.resolve("gray"), 2);
    ImageIO.write(
        new BufferedImage(6, 4, BufferedImage.TYPE_BYTE_GRAY),
        "png",
        gray.resolve("002.png").toFile());
    try (ImageSource s = ImageSource.open(gray, false, 2)) {
      assertThatThrownBy(() -> readAll(s, 10))
          .hasMessageContaining("002.png")
          .hasMessageContaining("1 channel");
    }
    Path junk = folder(tmp.resolve("junk"), 2);
    Files.writeString(junk.resolve("003.png"), "not a png");
    try (ImageSource s = ImageSource.open(junk, false, 2)) {
      assertThatThrownBy(() -> readAll(s, 10))
          .hasMessageContaining("003.png")
          .hasMessageContaining("unreadable");
    }
    try (ImageSource s = ImageSource.open(junk, true, 2)) {
      assertThat(readAll(s, 10)).hasSize(2 * 3 * 4 * 6);
      assertThat(s.skipped()).isEqualTo(1);
      assertThat(s.skippedFiles()).singleElement().asString().contains("003.png");
    }
    assertThatThrownBy(() -> ImageSource.open(tmp.resolve("absent"), false, 1))
        .hasMessageContaining("absent");
    Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(() -> ImageSource.open(tmp.resolve("empty"), false, 1))
        .hasMessageContaining("no .png");
  }

  @Test
  void aStatisticsOnlyNpzIsNotAnImageSet(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("stats.npz");
    ReferenceStatistics.write(
        f,
        new FrechetDistance.Statistics(new double[] {1, 2}, new double[][] {{1, 0}, {0, 1}}, 2),
        false);
    assertThatThrownBy(() -> ImageSource.open(f, false, 1)).hasMessageContaining("no arr_0");
    assertThatThrownBy(
            () ->
                ReferenceStatistics.write(
                    f,
                    new FrechetDistance.Statistics(new double[] {1}, new double[][] {{1}}, 2),
                    false))
        .hasMessageContaining("--force");
    try (Npz.Reader r = Npz.open(f)) {
      FrechetDistance.Statistics s = ReferenceStatistics.read(r);
      assertThat(s.mean()).containsExactly(1, 2);
    }
  }
}
