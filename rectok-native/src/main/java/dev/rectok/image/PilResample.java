package dev.rectok.image;

/**
 * Pillow's {@code Image.resize} for 8-bit RGB images with the {@code BOX} and {@code BICUBIC}
 * filters, bit for bit (Pillow 9.x {@code libImaging/Resample.c}): separable convolution,
 * horizontal pass first into a uint8 image, then vertical; float64 filter weights normalised per
 * output pixel, converted to fixed point with 22 fractional bits, accumulated in 32-bit integers
 * from a rounding bias of one half, and clipped to 0..255. Re-implemented from the algorithm, not
 * copied; the golden case {@code case5_preprocess} checks it.
 *
 * <p>Stateless and thread-safe.
 */
public final class PilResample {
  /** Pillow's {@code PRECISION_BITS}: 32 - 8 (uint8 range) - 2 (headroom for negative lobes). */
  static final int PRECISION_BITS = 32 - 8 - 2;

  /** Resampling filters, with Pillow's support radii. */
  public enum Filter {
    /** Pillow {@code Image.BOX}: area average; support 0.5. */
    BOX(0.5) {
      @Override
      double weight(double x) {
        // Half-open on the left, as Pillow's box_filter: a sample on the boundary counts once.
        return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
      }
    },
    /** Pillow {@code Image.BICUBIC}: Keys cubic with a = -0.5; support 2. */
    BICUBIC(2.0) {
      @Override
      double weight(double x) {
        final double a = -0.5;
        if (x < 0.0) {
          x = -x;
        }
        if (x < 1.0) {
          return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
          return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
      }
    };

    final double support;

    Filter(double support) {
      this.support = support;
    }

    abstract double weight(double x);
  }

  private PilResample() {}

  /** Per-output-pixel source ranges ({@code start}, {@code count}) and fixed-point weights. */
  private record Coefficients(int ksize, int[] bounds, int[] weights) {}

  /**
   * Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for the whole source range
   * {@code [0, inSize)}: the support widens with the downscale factor so that every source pixel
   * contributes when shrinking.
   */
  private static Coefficients coefficients(int inSize, int outSize, Filter filter) {
    double scale = (double) inSize / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = filter.support * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] bounds = new int[outSize * 2];
    int[] weights = new int[outSize * ksize];
    double[] k = new double[ksize];
    double ss = 1.0 / filterscale;
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      // (int) truncates toward zero like the C cast; with the +0.5 it rounds the non-negative ends.
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) {
        xmin = 0;
      }
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) {
        xmax = inSize;
      }
      xmax -= xmin;
      double ww = 0.0;
      for (int x = 0; x < xmax; x++) {
        double w = filter.weight((x + xmin - center + 0.5) * ss);
        k[x] = w;
        ww += w;
      }
      for (int x = 0; x < xmax; x++) {
        if (ww != 0.0) {
          k[x] /= ww;
        }
        // Round half away from zero into fixed point, as normalize_coeffs_8bpc does.
        double v = k[x] * (1 << PRECISION_BITS);
        weights[xx * ksize + x] = (int) (v < 0 ? -0.5 + v : 0.5 + v);
      }
      bounds[xx * 2] = xmin;
      bounds[xx * 2 + 1] = xmax;
    }
    return new Coefficients(ksize, bounds, weights);
  }

  private static int clip8(int v) {
    if (v >= (1 << PRECISION_BITS << 8)) {
      return 255;
    }
    if (v <= 0) {
      return 0;
    }
    return v >> PRECISION_BITS;
  }

  /**
   * {@code image.resize((width, height), filter)} for an RGB image. Like Pillow, a resize to the
   * image's own size returns the image unchanged (Pillow returns a copy without resampling).
   */
  public static RgbImage resize(RgbImage in, int width, int height, Filter filter) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "target size must be positive, got " + width + "x" + height);
    }
    if (width == in.width() && height == in.height()) {
      return in;
    }
    boolean horizontal = width != in.width();
    boolean vertical = height != in.height();
    Coefficients kh = coefficients(in.width(), width, filter);
    Coefficients kv = coefficients(in.height(), height, filter);
    RgbImage cur = in;
    int[] vbounds = kv.bounds.clone();
    if (horizontal) {
      // Only the source rows that the vertical pass reads are resampled horizontally.
      int first = vbounds[0];
      int last = vbounds[height * 2 - 2] + vbounds[height * 2 - 1];
      for (int i = 0; i < height; i++) {
        vbounds[i * 2] -= first;
      }
      cur = horizontalPass(in, first, last - first, width, kh);
    }
    if (vertical) {
      cur = verticalPass(cur, height, new Coefficients(kv.ksize, vbounds, kv.weights));
    }
    return cur;
  }

  private static RgbImage horizontalPass(
      RgbImage in, int rowOffset, int rows, int outWidth, Coefficients c) {
    byte[] src = in.data();
    int inWidth = in.width();
    byte[] out = new byte[outWidth * rows * 3];
    int half = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < rows; y++) {
      int rowBase = (y + rowOffset) * inWidth * 3;
      for (int xx = 0; xx < outWidth; xx++) {
        int xmin = c.bounds[xx * 2];
        int n = c.bounds[xx * 2 + 1];
        int kBase = xx * c.ksize;
        int s0 = half;
        int s1 = half;
        int s2 = half;
        for (int x = 0; x < n; x++) {
          int w = c.weights[kBase + x];
          int p = rowBase + (x + xmin) * 3;
          s0 += (src[p] & 0xff) * w;
          s1 += (src[p + 1] & 0xff) * w;
          s2 += (src[p + 2] & 0xff) * w;
        }
        int o = (y * outWidth + xx) * 3;
        out[o] = (byte) clip8(s0);
        out[o + 1] = (byte) clip8(s1);
        out[o + 2] = (byte) clip8(s2);
      }
    }
    return new RgbImage(outWidth, rows, out);
  }

  private static RgbImage verticalPass(RgbImage in, int outHeight, Coefficients c) {
    byte[] src = in.data();
    int w3 = in.width() * 3;
    byte[] out = new byte[w3 * outHeight];
    int half = 1 << (PRECISION_BITS - 1);
    int[] acc = new int[w3];
    for (int yy = 0; yy < outHeight; yy++) {
      int ymin = c.bounds[yy * 2];
      int n = c.bounds[yy * 2 + 1];
      int kBase = yy * c.ksize;
      java.util.Arrays.fill(acc, half);
      // Row-wise accumulation: the same integer sums as Pillow's pixel-wise loop (integer
      // addition is associative), but cache-friendly.
      for (int y = 0; y < n; y++) {
        int w = c.weights[kBase + y];
        int rowBase = (y + ymin) * w3;
        for (int i = 0; i < w3; i++) {
          acc[i] += (src[rowBase + i] & 0xff) * w;
        }
      }
      int o = yy * w3;
      for (int i = 0; i < w3; i++) {
        out[o + i] = (byte) clip8(acc[i]);
      }
    }
    return new RgbImage(in.width(), outHeight, out);
  }
}
