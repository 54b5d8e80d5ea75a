package dev.rectok.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdmPreprocessTest {

  static Path caseDir() {
    return Path.of(System.getProperty("rectok.golden.dir"), "case5_preprocess");
  }

  /** Every image of case5: the uint8 crop bit-exact, the tensor exact given the crop. */
  @Test
  void case5CropsAndTensorsAreExact() throws IOException {
    try (GoldenCase g = GoldenCase.open(caseDir())) {
      AdmPreprocess pre = new AdmPreprocess(g.config().path("image_size").asInt());
      var it = g.config().path("images").properties().iterator();
      int checked = 0;
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        JsonNode cfg = e.getValue();
        RgbImage src = AdmPreprocess.read(g.dir().resolve(cfg.path("file").asText()));
        assertThat(src.width()).isEqualTo(cfg.path("width").asInt());
        assertThat(pre.boxHalvings(src.width(), src.height()))
            .isEqualTo(cfg.path("center_crop_arr").path("box_halvings").asInt());

        RgbImage crop = pre.centerCrop(src);
        byte[] expected =
            g.host("output." + name + ".crop_uint8").data().toArray(ValueLayout.JAVA_BYTE);
        int maxDiff = 0;
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
          int d = Math.abs((crop.data()[i] & 0xff) - (expected[i] & 0xff));
          maxDiff = Math.max(maxDiff, d);
          differing += d != 0 ? 1 : 0;
        }
        assertThat(maxDiff).as(name + ": max |diff| (" + differing + " values differ)").isZero();

        try (Tensor t = pre.apply(src);
            Tensor chw = t.squeeze(0)) {
          GoldenCase.Comparison c = g.compare("output." + name + ".tensor", chw);
          assertThat(c.maxAbsError()).as(c.toString()).isZero();
        }
        checked++;
      }
      assertThat(checked).isEqualTo(3);
    }
  }

  @Test
  void unreadableFilesFailClearly(@TempDir Path dir) throws IOException {
    Path junk = dir.resolve("junk.png");
    Files.writeString(junk, "not an image");
    assertThatThrownBy(() -> AdmPreprocess.read(junk))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unreadable image")
        .hasMessageContaining("junk.png");
    assertThatThrownBy(() -> AdmPreprocess.read(dir.resolve("missing.png")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not found");
  }

  @Test
  void pngRoundTripPreservesPixels(@TempDir Path dir) throws IOException {
    RgbImage img = randomImage(new Random(3), 17, 9);
    Path f = dir.resolve("x.png");
    AdmPreprocess.writePng(img, f);
    assertThat(AdmPreprocess.read(f).data()).isEqualTo(img.data());
  }

  @Test
  void greyAndPalettePngsConvertLikePil(@TempDir Path dir) throws IOException {
    java.awt.image.BufferedImage grey =
        new java.awt.image.BufferedImage(5, 3, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    int[] values = new int[15];
    for (int i = 0; i < 15; i++) {
      values[i] = i * 17;
    }
    grey.getRaster().setSamples(0, 0, 5, 3, 0, values);
    Path f = dir.resolve("grey.png");
    javax.imageio.ImageIO.write(grey, "png", f.toFile());
    RgbImage rgb = AdmPreprocess.read(f);
    for (int i = 0; i < 15; i++) {
      // Replicated exactly (getRGB would map 17 to 72 through the linear grey colour space).
      assertThat(rgb.get(i % 5, i / 5, 0)).isEqualTo(values[i]);
      assertThat(rgb.get(i % 5, i / 5, 2)).isEqualTo(values[i]);
    }
    byte[] r = {10, (byte) 200};
    byte[] gr = {20, (byte) 210};
    byte[] b = {30, (byte) 220};
    java.awt.image.BufferedImage pal =
        new java.awt.image.BufferedImage(
            2,
            1,
            java.awt.image.BufferedImage.TYPE_BYTE_BINARY,
            new java.awt.image.IndexColorModel(1, 2, r, gr, b));
    pal.getRaster().setSample(1, 0, 0, 1);
    Path p = dir.resolve("pal.png");
    javax.imageio.ImageIO.write(pal, "png", p.toFile());
    assertThat(AdmPreprocess.read(p).data())
        .containsExactly(10, 20, 30, (byte) 200, (byte) 210, (byte) 220);
  }

  static RgbImage randomImage(Random r, int w, int h) {
    byte[] d = new byte[w * h * 3];
    r.nextBytes(d);
    return new RgbImage(w, h, d);
  }

  @Property(tries = 30)
  void outputIsAlwaysTargetSquareInRange(
      @ForAll @IntRange(min = 1, max = 90) int w,
      @ForAll @IntRange(min = 1, max = 90) int h,
      @ForAll @IntRange(min = 1, max = 24) int size,
      @ForAll long seed) {
    AdmPreprocess pre = new AdmPreprocess(size);
    try (Tensor t = pre.apply(randomImage(new Random(seed), w, h))) {
      assertThat(t.shape()).containsExactly(1, 3, size, size);
      for (float v : t.toFloatArray()) {
        assertThat(v).isBetween(-1f, 1f);
      }
    }
  }

  @Property(tries = 30)
  void boxAndBicubicOfAConstantImageAreConstant(
      @ForAll @IntRange(min = 1, max = 60) int w,
      @ForAll @IntRange(min = 1, max = 60) int h,
      @ForAll @IntRange(min = 1, max = 60) int ow,
      @ForAll @IntRange(min = 1, max = 60) int oh,
      @ForAll @IntRange(min = 0, max = 255) int value) {
    byte[] d = new byte[w * h * 3];
    java.util.Arrays.fill(d, (byte) value);
    RgbImage img = new RgbImage(w, h, d);
    for (PilResample.Filter f : PilResample.Filter.values()) {
      RgbImage out = PilResample.resize(img, ow, oh, f);
      assertThat(out.width()).isEqualTo(ow);
      assertThat(out.height()).isEqualTo(oh);
      for (byte b : out.data()) {
        assertThat(b & 0xff).as(f.name()).isEqualTo(value);
      }
    }
  }

  @Property(tries = 20)
  void boxHalvingOfAnEvenImageAveragesTwoByTwoBlocks(
      @ForAll @IntRange(min = 1, max = 20) int w2,
      @ForAll @IntRange(min = 1, max = 20) int h2,
      @ForAll long seed) {
    RgbImage img = randomImage(new Random(seed), 2 * w2, 2 * h2);
    RgbImage out = PilResample.resize(img, w2, h2, PilResample.Filter.BOX);
    for (int y = 0; y < h2; y++) {
      for (int x = 0; x < w2; x++) {
        for (int c = 0; c < 3; c++) {
          // Two passes, each rounding half up: (a+b+1)>>1 per row pair, then per column pair.
          int r0 = (img.get(2 * x, 2 * y, c) + img.get(2 * x + 1, 2 * y, c) + 1) >> 1;
          int r1 = (img.get(2 * x, 2 * y + 1, c) + img.get(2 * x + 1, 2 * y + 1, c) + 1) >> 1;
          assertThat(out.get(x, y, c)).isEqualTo((r0 + r1 + 1) >> 1);
        }
      }
    }
  }

  @Property(tries = 30)
  void tensorToUint8ToTensorIsWithinOneStep(
      @ForAll @IntRange(min = 1, max = 12) int w,
      @ForAll @IntRange(min = 1, max = 12) int h,
      @ForAll long seed) {
    Random r = new Random(seed);
    float[] v = new float[3 * w * h];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    try (Tensor t = Tensor.of(v, 3, h, w)) {
      RgbImage img = AdmPreprocess.toImages(t)[0];
      try (Tensor back = AdmPreprocess.toTensor(img)) {
        float[] b = back.toFloatArray();
        for (int i = 0; i < v.length; i++) {
          // Truncation: the recovered value is never above the original, and at most 1/255 of
          // the [0,1] range (2/255 in [-1,1]) below it.
          double x01 = v[i] * 0.5 + 0.5;
          double b01 = b[i] * 0.5 + 0.5;
          assertThat(b01)
              .isLessThanOrEqualTo(x01 + 1e-6)
              .isGreaterThanOrEqualTo(x01 - 1.0 / 255 - 1e-6);
        }
      }
    }
  }

  /**
   * The reference truncates, so uint8 -> [-1,1] -> uint8 may lose one step where the float32 round
   * trip lands just below the integer (63 does: 63/255 comes back as 62.99998).
   */
  @Test
  void uint8ToTensorToUint8LosesAtMostOneStep() {
    byte[] d = new byte[256 * 3];
    for (int i = 0; i < d.length; i++) {
      d[i] = (byte) (i / 3);
    }
    RgbImage img = new RgbImage(256, 1, d);
    try (Tensor t = AdmPreprocess.toTensor(img)) {
      byte[] back = AdmPreprocess.toImages(t)[0].data();
      int lost = 0;
      for (int i = 0; i < d.length; i++) {
        int diff = (d[i] & 0xff) - (back[i] & 0xff);
        assertThat(diff).as("value %d", d[i] & 0xff).isBetween(0, 1);
        lost += diff;
      }
      assertThat(lost).as("values that lose a step").isLessThan(d.length / 3);
    }
    assertThat(AdmPreprocess.toUint8(1f)).isEqualTo(255);
    assertThat(AdmPreprocess.toUint8(-1f)).isZero();
    assertThat(AdmPreprocess.toUint8(2f)).isEqualTo(255);
    assertThat(AdmPreprocess.toUint8(-3f)).isZero();
  }

  @Test
  void batchesFilesAndWritesOnePngPerSample(@TempDir Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path f = dir.resolve("in" + i + ".png");
      AdmPreprocess.writePng(randomImage(new Random(i), 40 + i * 7, 33), f);
      files.add(f);
    }
    AdmPreprocess pre = new AdmPreprocess(16);
    try (Tensor batch = pre.applyAll(files)) {
      assertThat(batch.shape()).containsExactly(2, 3, 16, 16);
      List<Path> outs = List.of(dir.resolve("o0.png"), dir.resolve("o1.png"));
      AdmPreprocess.writePngs(batch, outs);
      // The written file holds the crop up to the truncation step of the inverse.
      byte[] crop0 = pre.centerCrop(AdmPreprocess.read(files.get(0))).data();
      byte[] written = AdmPreprocess.read(outs.get(0)).data();
      assertThat(written.length).isEqualTo(crop0.length);
      for (int i = 0; i < crop0.length; i++) {
        assertThat((crop0[i] & 0xff) - (written[i] & 0xff)).isBetween(0, 1);
      }
    }
  }
}
