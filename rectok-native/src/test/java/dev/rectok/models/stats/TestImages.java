package dev.rectok.models.stats;

import dev.rectok.models.tokenizer.RecTokConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Small generated images and a tiny tokenizer config for the statistics tests. */
final class TestImages {
  private TestImages() {}

  /** img 16, patch 4 (16 tokens), 6 token channels, one-block encoder and decoder. */
  static RecTokConfig tinyConfig() {
    return RecTokConfig.builder()
        .encoderDecoder(new RecTokConfig.ModelSize(24, 1, 2), new RecTokConfig.ModelSize(16, 1, 1))
        .imgSize(16)
        .patchSize(4)
        .tokenChannels(6)
        .build();
  }

  /**
   * Sizes that exercise the ADM crop: upscaling, odd aspect ratios, and BOX halving (short side ≥
   * 32).
   */
  static final int[][] SIZES = {
    {16, 16}, {20, 17}, {33, 40}, {50, 24}, {64, 64}, {17, 90}, {12, 13}, {70, 35}, {40, 33},
    {25, 25}
  };

  /** A smooth random RGB image (a gradient plus noise), deterministic for {@code seed}. */
  static BufferedImage image(int w, int h, long seed) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int r0 = r.nextInt(256);
    int g0 = r.nextInt(256);
    int b0 = r.nextInt(256);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int red = clamp(r0 + 3 * x - 2 * y + r.nextInt(41) - 20);
        int green = clamp(g0 - 2 * x + 3 * y + r.nextInt(41) - 20);
        int blue = clamp(b0 + x * y % 64 + r.nextInt(41) - 20);
        img.setRGB(x, y, red << 16 | green << 8 | blue);
      }
    }
    return img;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  static Path writePng(Path file, int w, int h, long seed) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    if (!ImageIO.write(image(w, h, seed), "png", file.toFile())) {
      throw new IOException("no PNG writer");
    }
    return file;
  }

  /**
   * Writes the ten {@link #SIZES} images as {@code img00.png} … {@code img09.png} under {@code
   * dir}.
   */
  static void writeTen(Path dir) throws IOException {
    for (int i = 0; i < SIZES.length; i++) {
      writePng(dir.resolve(String.format("img%02d.png", i)), SIZES[i][0], SIZES[i][1], 1000 + i);
    }
  }
}
