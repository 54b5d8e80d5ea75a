package dev.rectok.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.Device;
import dev.rectok.api.ImageFit;
import dev.rectok.api.Tokenizer;
import java.awt.image.BufferedImage;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The size- and type-preserving path: any image comes back with its width, height and type. */
class ImageFitPropertyTest {
  private static Tokenizer tokenizer;

  @BeforeContainer
  static void open() throws Exception {
    tokenizer = RecTokTokenizer.open(DemoModel.file("tokenizer.safetensors"), Device.CPU);
  }

  @AfterContainer
  static void close() {
    tokenizer.close();
  }

  @Provide
  Arbitrary<Integer> types() {
    return Arbitraries.of(
        BufferedImage.TYPE_INT_RGB,
        BufferedImage.TYPE_INT_ARGB,
        BufferedImage.TYPE_3BYTE_BGR,
        BufferedImage.TYPE_BYTE_GRAY,
        BufferedImage.TYPE_USHORT_GRAY,
        BufferedImage.TYPE_BYTE_INDEXED,
        BufferedImage.TYPE_4BYTE_ABGR);
  }

  static BufferedImage image(int w, int h, int type, long seed) {
    BufferedImage img = new BufferedImage(w, h, type);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int v = (x * 255 / Math.max(1, w - 1) + r.nextInt(30)) & 0xff;
        img.setRGB(x, y, 0x80000000 | v << 16 | ((y * 3) & 0xff) << 8 | (255 - v));
      }
    }
    return img;
  }

  @Property(tries = 25)
  void reconstructKeepsAnyInputsSizeAndType(
      @ForAll @IntRange(min = 1, max = 80) int w,
      @ForAll @IntRange(min = 1, max = 80) int h,
      @ForAll("types") int type,
      @ForAll ImageFit fit,
      @ForAll long seed) {
    BufferedImage in = image(w, h, type, seed);
    BufferedImage out = tokenizer.reconstruct(in, fit);
    assertThat(out.getWidth()).isEqualTo(w);
    assertThat(out.getHeight()).isEqualTo(h);
    assertThat(out.getType()).isEqualTo(type);
    assertThat(out.getColorModel().getNumComponents())
        .isEqualTo(in.getColorModel().getNumComponents());
    // deterministic: the same image gives the same pixels
    BufferedImage again = tokenizer.reconstruct(in, fit);
    assertThat(again.getRGB(0, 0, w, h, null, 0, w)).isEqualTo(out.getRGB(0, 0, w, h, null, 0, w));
  }

  @Property(tries = 5)
  void aTileSizedImageTilesToExactlyTheModelsReconstruction(@ForAll long seed) {
    int s = tokenizer.imageSize();
    BufferedImage in = image(s, s, BufferedImage.TYPE_INT_RGB, seed);
    BufferedImage tiled = tokenizer.reconstruct(in, ImageFit.TILE);
    BufferedImage direct = tokenizer.reconstruct(java.util.List.of(in)).getFirst();
    assertThat(tiled.getRGB(0, 0, s, s, null, 0, s))
        .isEqualTo(direct.getRGB(0, 0, s, s, null, 0, s));
  }
}
