package dev.rectok.imagej;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.ImageFit;
import dev.rectok.api.Tokenizer;
import dev.rectok.demomodels.FashionMnistModels;
import ij.IJ;
import ij.ImagePlus;
import ij.process.ImageProcessor;
import java.awt.image.BufferedImage;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The plugin's commands on real ImagePlus objects, headless. */
class RecTokImagesPropertyTest {
  private static Tokenizer tokenizer;

  @BeforeContainer
  static void open() throws Exception {
    tokenizer =
        Backends.openTokenizerResource(
            FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU);
  }

  @AfterContainer
  static void close() {
    tokenizer.close();
  }

  @Provide
  Arbitrary<String> types() {
    return Arbitraries.of("8-bit", "16-bit", "32-bit", "RGB");
  }

  static ImagePlus image(String type, int w, int h, long seed) {
    ImagePlus imp = IJ.createImage("in", type + " random", w, h, 1);
    // IJ's "random" fill uses its own generator; make content depend on the seed too
    ImageProcessor ip = imp.getProcessor();
    java.util.Random r = new java.util.Random(seed);
    for (int i = 0; i < 20; i++) {
      ip.setValue(r.nextInt(200));
      ip.fillRect(r.nextInt(w), r.nextInt(h), 1 + r.nextInt(w), 1 + r.nextInt(h));
    }
    ip.resetMinAndMax();
    return imp;
  }

  @Property(tries = 20)
  void reconstructKeepsAnyImagesSizeAndType(
      @ForAll("types") String type,
      @ForAll @IntRange(min = 1, max = 70) int w,
      @ForAll @IntRange(min = 1, max = 70) int h,
      @ForAll ImageFit fit,
      @ForAll long seed) {
    ImagePlus in = image(type, w, h, seed);
    Object before = in.getProcessor().getPixelsCopy();
    ImagePlus out = RecTokImages.reconstruct(tokenizer, in, fit);
    assertThat(out.getWidth()).isEqualTo(w);
    assertThat(out.getHeight()).isEqualTo(h);
    assertThat(out.getType()).isEqualTo(in.getType());
    assertThat(out.getBitDepth()).isEqualTo(in.getBitDepth());
    assertThat(in.getProcessor().getPixels()).as("the input is unchanged").isEqualTo(before);
  }

  @Property(tries = 8)
  void interpolationEndpointsAreTheInputsReconstructions(
      @ForAll("types") String ta,
      @ForAll("types") String tb,
      @ForAll @IntRange(min = 2, max = 5) int frames,
      @ForAll long seed) {
    int s = tokenizer.imageSize();
    ImagePlus a = image(ta, s, s, seed);
    ImagePlus b = image(tb, s, s, seed + 1);
    ImagePlus stack = RecTokImages.interpolate(tokenizer, a, b, frames);
    assertThat(stack.getStackSize()).isEqualTo(frames);
    boolean gray = RecTokImages.isGray(a.getType()) && RecTokImages.isGray(b.getType());
    assertThat(stack.getType()).isEqualTo(gray ? ImagePlus.GRAY8 : ImagePlus.COLOR_RGB);
    assertThat(pixels(stack, 1, gray)).isEqualTo(reconstruction(a, gray));
    assertThat(pixels(stack, frames, gray)).isEqualTo(reconstruction(b, gray));
  }

  private static int[] reconstruction(ImagePlus imp, boolean gray) {
    BufferedImage rec =
        tokenizer
            .reconstruct(List.of(RecTokImages.toBuffered(imp.getProcessor(), imp.getType())))
            .getFirst();
    ImageProcessor ip = new ij.process.ColorProcessor(rec);
    return gray ? toInts(ip.convertToByte(false)) : (int[]) ip.getPixels();
  }

  private static int[] pixels(ImagePlus stack, int slice, boolean gray) {
    ImageProcessor ip = stack.getStack().getProcessor(slice);
    return gray ? toInts(ip) : (int[]) ip.getPixels();
  }

  private static int[] toInts(ImageProcessor ip) {
    byte[] b = (byte[]) ip.getPixels();
    int[] out = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] & 0xff;
    }
    return out;
  }

  @Property(tries = 4)
  void generateMakesAModelSizedRgbImageOfTheClass(
      @ForAll @IntRange(min = 0, max = 9) int label, @ForAll long seed) throws Exception {
    try (var gen =
        Backends.openGeneratorResource(
            FashionMnistModels.GENERATOR,
            FashionMnistModels.GUIDE,
            FashionMnistModels.loader(),
            Device.CPU)) {
      ImagePlus a =
          RecTokImages.generate(
              tokenizer, gen, label, seed, 3, GenerateOptions.GuidanceKind.AUTOGUIDANCE, 1.5);
      ImagePlus b =
          RecTokImages.generate(
              tokenizer, gen, label, seed, 3, GenerateOptions.GuidanceKind.AUTOGUIDANCE, 1.5);
      assertThat(a.getType()).isEqualTo(ImagePlus.COLOR_RGB);
      assertThat(a.getWidth()).isEqualTo(tokenizer.imageSize());
      assertThat((int[]) a.getProcessor().getPixels())
          .isEqualTo((int[]) b.getProcessor().getPixels());
    }
  }
}
