package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.Scope;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ImageNet-style folder through the trainers' data path: labels by folder, corrupt files
 * skipped.
 */
class TrainingDataTest {

  private static void png(Path file, int w, int h, int shade) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (shade << 16) | ((x * 7) & 0xff) << 8 | ((y * 5) & 0xff));
      }
    }
    ImageIO.write(img, "png", file.toFile());
  }

  @Test
  void imageFoldersFeedBatchesWithLabelsAndSkipCorruptFiles(@TempDir Path tmp) throws IOException {
    for (String cls : new String[] {"boots", "shirts"}) {
      Files.createDirectories(tmp.resolve(cls));
      for (int i = 0; i < 5; i++) {
        png(tmp.resolve(cls).resolve(i + ".png"), 40 + i, 36, cls.equals("boots") ? 10 : 200);
      }
    }
    Files.writeString(tmp.resolve("shirts").resolve("broken.png"), "not a png");
    try (TrainingData data = TrainingData.open(tmp, 32, -1);
        Scope s = Scope.open()) {
      assertThat(data.size()).isEqualTo(11);
      BatchSource src = data.batches(4, 1, 2);
      Set<Long> labels = new HashSet<>();
      int batches = 0;
      try (BatchSource.Pass p = src.open(0, null)) {
        while (p.hasNext()) {
          try (Batch b = p.next()) {
            assertThat(b.images().shape()).containsExactly(4, 3, 32, 32);
            for (long l : b.labels().toLongArray()) {
              labels.add(l);
            }
            batches++;
          }
        }
      }
      assertThat(batches).as("10 readable images, batches of 4, last dropped").isEqualTo(2);
      assertThat(labels).containsOnly(0L, 1L);
      assertThat(data.images(new long[] {0, 9}).shape()).containsExactly(2, 3, 32, 32);
    }
    assertThatThrownBy(() -> TrainingData.open(tmp.resolve("nothing"), 32, -1))
        .hasMessageContaining("no such training data");
  }
}
