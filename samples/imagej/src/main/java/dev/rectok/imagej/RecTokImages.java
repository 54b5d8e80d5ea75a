package dev.rectok.imagej;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Generator;
import dev.rectok.api.ImageFit;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.api.Tokenizer;
import ij.ImagePlus;
import ij.ImageStack;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageConverter;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The plugin's work on {@link ImagePlus} objects, without any dialog (so it runs headless and in
 * tests). Every method returns a new image and leaves its input unchanged. Stateless; thread-safe
 * as far as the models are (they are).
 *
 * <p>Types: 8-bit, 16-bit and 32-bit grayscale go through the model as gray (16- and 32-bit mapped
 * from their display range to 0..255 and back) and come back with their type; RGB stays RGB; 8-bit
 * colour (indexed) comes back as 8-bit colour.
 */
public final class RecTokImages {
  private RecTokImages() {}

  /**
   * The current slice of {@code imp} reconstructed at its own size and type, tiled or resized.
   *
   * @param tokenizer the tokenizer (borrowed)
   * @param imp the image; unchanged
   * @param fit tiles or one resize
   * @return a new image with the input's size, type and calibration
   */
  public static ImagePlus reconstruct(Tokenizer tokenizer, ImagePlus imp, ImageFit fit) {
    ImageProcessor ip = imp.getProcessor();
    BufferedImage in = toBuffered(ip, imp.getType());
    BufferedImage out = tokenizer.reconstruct(in, fit);
    ImagePlus result =
        new ImagePlus(imp.getShortTitle() + " (RecTok)", fromBuffered(out, ip, imp.getType()));
    result.setCalibration(imp.getCalibration());
    return result;
  }

  /**
   * One generated image of {@code label} (RGB at the model's size).
   *
   * @param tokenizer decodes the latent (borrowed)
   * @param generator samples it (borrowed)
   * @param label the class
   * @param seed the noise seed
   * @param steps sampling steps
   * @param guidance the guidance strategy
   * @param scale its weight
   * @return the new image
   */
  public static ImagePlus generate(
      Tokenizer tokenizer,
      Generator generator,
      int label,
      long seed,
      int steps,
      GenerateOptions.GuidanceKind guidance,
      double scale) {
    GenerateOptions options =
        GenerateOptions.builder().gridPoints(steps + 1).guidance(guidance, scale).build();
    Latents z = generator.sample(new long[] {label}, seed, options, Progress.NONE);
    BufferedImage img = tokenizer.decode(z).getFirst();
    return new ImagePlus("RecTok class " + label + " seed " + seed, new ColorProcessor(img));
  }

  /**
   * A stack of {@code frames} images (at least 2) along the straight line between the two images'
   * latents (raw posterior means), each at the model's size; the first and last frames are the two
   * inputs' reconstructions. Gray when both inputs are gray, else RGB. Each frame is decoded in a
   * call of its own, so a frame never depends on the others.
   *
   * @param tokenizer the tokenizer (borrowed)
   * @param a the first image (current slice); unchanged
   * @param b the second image (current slice); unchanged
   * @param frames the stack's size, at least 2
   * @return the new stack
   */
  public static ImagePlus interpolate(Tokenizer tokenizer, ImagePlus a, ImagePlus b, int frames) {
    if (frames < 2) {
      throw new IllegalArgumentException("frames must be at least 2, got " + frames);
    }
    BufferedImage ia = toBuffered(a.getProcessor(), a.getType());
    BufferedImage ib = toBuffered(b.getProcessor(), b.getType());
    boolean gray = isGray(a.getType()) && isGray(b.getType());
    Latents za = tokenizer.encode(List.of(ia), false, 0, false);
    Latents zb = tokenizer.encode(List.of(ib), false, 0, false);
    float[] va = za.values();
    float[] vb = zb.values();
    int s = tokenizer.imageSize();
    ImageStack stack = new ImageStack(s, s);
    float[] v = new float[va.length];
    for (int f = 0; f < frames; f++) {
      float t = (float) f / (frames - 1);
      for (int i = 0; i < v.length; i++) {
        v[i] = f == 0 ? va[i] : f == frames - 1 ? vb[i] : (1 - t) * va[i] + t * vb[i];
      }
      Latents z = new Latents(v, 1, za.channels(), za.height(), za.width(), false);
      BufferedImage img = tokenizer.decode(z).getFirst();
      ImageProcessor ip = new ColorProcessor(img);
      stack.addSlice(String.format("t=%.3f", t), gray ? ip.convertToByte(false) : ip);
    }
    return new ImagePlus(a.getShortTitle() + " to " + b.getShortTitle() + " (RecTok)", stack);
  }

  static boolean isGray(int type) {
    return type == ImagePlus.GRAY8 || type == ImagePlus.GRAY16 || type == ImagePlus.GRAY32;
  }

  /**
   * A processor as a BufferedImage the tokenizer reads: gray types as TYPE_BYTE_GRAY, others RGB.
   */
  static BufferedImage toBuffered(ImageProcessor ip, int type) {
    int w = ip.getWidth();
    int h = ip.getHeight();
    if (isGray(type)) {
      BufferedImage g = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      // 8-bit: the pixel values as they are; 16/32-bit: the display range mapped to 0..255
      ImageProcessor bytes = type == ImagePlus.GRAY8 ? ip : ip.convertToByte(true);
      byte[] px = (byte[]) bytes.getPixels();
      g.getRaster().setDataElements(0, 0, w, h, px);
      return g;
    }
    BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] px = (int[]) ip.convertToRGB().getPixels();
    rgb.setRGB(0, 0, w, h, px, 0, w);
    return rgb;
  }

  /** The model's output back in the original processor's type (and display range for 16/32-bit). */
  static ImageProcessor fromBuffered(BufferedImage img, ImageProcessor like, int type) {
    int w = img.getWidth();
    int h = img.getHeight();
    switch (type) {
      case ImagePlus.GRAY8 -> {
        byte[] px = new byte[w * h];
        img.getRaster().getDataElements(0, 0, w, h, px);
        ByteProcessor bp = new ByteProcessor(w, h, px);
        bp.setColorModel(like.getColorModel());
        return bp;
      }
      case ImagePlus.GRAY16, ImagePlus.GRAY32 -> {
        byte[] px = new byte[w * h];
        img.getRaster().getDataElements(0, 0, w, h, px);
        double min = like.getMin();
        double max = like.getMax();
        float[] f = new float[w * h];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) (min + (px[i] & 0xff) * (max - min) / 255.0);
        }
        FloatProcessor fp = new FloatProcessor(w, h, f);
        if (type == ImagePlus.GRAY32) {
          fp.setMinAndMax(min, max);
          return fp;
        }
        ShortProcessor sp = fp.convertToShortProcessor(false);
        sp.setMinAndMax(min, max);
        return sp;
      }
      case ImagePlus.COLOR_256 -> {
        ImagePlus tmp = new ImagePlus("", new ColorProcessor(img));
        new ImageConverter(tmp).convertRGBtoIndexedColor(256);
        return tmp.getProcessor();
      }
      default -> {
        return new ColorProcessor(img);
      }
    }
  }
}
