package dev.rectok.models.inception;

import dev.rectok.api.DType;
import dev.rectok.torch.Tensor;
import java.util.Arrays;

/**
 * TensorFlow 1.x's bilinear resize ({@code align_corners=False}) exactly as torch-fidelity's {@code
 * interpolate_bilinear_2d_like_tensorflow1x} computes it (method "slow", bit-exact on CPU), which
 * differs from PyTorch's {@code upsample_bilinear2d}: the source coordinate of output pixel {@code
 * i} is {@code i · (in/out)} with no half-pixel shift, the scale is rounded to float32, the low
 * index is truncated, the high one clamped to the edge, and the two lerps run in the working
 * precision (float32, or float64 with the float32-rounded scale). See {@code docs/evaluation.md}.
 * Stateless and thread-safe.
 */
public final class Tf1Resize {
  private Tf1Resize() {}

  /**
   * Resizes uint8 images (N, 3, H, W) (any device) to (N, 3, outH, outW) in {@code dtype} (float32
   * or float64) on the CPU; the result is owned by the caller (or the enclosing scope).
   */
  public static Tensor toTensor(Tensor images, int outH, int outW, DType dtype) {
    long[] shape = images.shape();
    if (images.dtype() != DType.UINT8 || shape.length != 4) {
      throw new IllegalArgumentException(
          "expected uint8 (N, C, H, W), got " + images.dtype() + " " + Arrays.toString(shape));
    }
    int n = Math.toIntExact(shape[0]);
    int c = Math.toIntExact(shape[1]);
    int h = Math.toIntExact(shape[2]);
    int w = Math.toIntExact(shape[3]);
    byte[] px = images.toByteArray();
    long[] outShape = {n, c, outH, outW};
    if (dtype == DType.FLOAT64) {
      return Tensor.of(resize64(px, n * c, h, w, outH, outW), outShape);
    }
    if (dtype != DType.FLOAT32) {
      throw new IllegalArgumentException("the resize runs in float32 or float64, not " + dtype);
    }
    return Tensor.of(resize32(px, n * c, h, w, outH, outW), outShape);
  }

  /** Planes of uint8 pixels ({@code planes} × h × w, row-major) resized in float32. */
  public static float[] resize32(byte[] px, int planes, int h, int w, int outH, int outW) {
    Grid gx = new Grid(w, outW, false);
    Grid gy = new Grid(h, outH, false);
    float[] out = new float[planes * outH * outW];
    float[] row0 = new float[outW];
    float[] row1 = new float[outW];
    for (int p = 0; p < planes; p++) {
      int base = p * h * w;
      for (int oy = 0; oy < outH; oy++) {
        horizontal32(px, base + gy.lo[oy] * w, gx, row0);
        horizontal32(px, base + gy.hi[oy] * w, gx, row1);
        float dy = gy.d32[oy];
        int o = (p * outH + oy) * outW;
        for (int ox = 0; ox < outW; ox++) {
          out[o + ox] = row0[ox] + (row1[ox] - row0[ox]) * dy;
        }
      }
    }
    return out;
  }

  /**
   * As {@link #resize32} in float64 (torch-fidelity's {@code
   * feature_extractor_internal_dtype='float64'}).
   */
  public static double[] resize64(byte[] px, int planes, int h, int w, int outH, int outW) {
    Grid gx = new Grid(w, outW, true);
    Grid gy = new Grid(h, outH, true);
    double[] out = new double[planes * outH * outW];
    double[] row0 = new double[outW];
    double[] row1 = new double[outW];
    for (int p = 0; p < planes; p++) {
      int base = p * h * w;
      for (int oy = 0; oy < outH; oy++) {
        horizontal64(px, base + gy.lo[oy] * w, gx, row0);
        horizontal64(px, base + gy.hi[oy] * w, gx, row1);
        double dy = gy.d64[oy];
        int o = (p * outH + oy) * outW;
        for (int ox = 0; ox < outW; ox++) {
          out[o + ox] = row0[ox] + (row1[ox] - row0[ox]) * dy;
        }
      }
    }
    return out;
  }

  private static void horizontal32(byte[] px, int rowStart, Grid gx, float[] out) {
    for (int ox = 0; ox < out.length; ox++) {
      float a = px[rowStart + gx.lo[ox]] & 0xff;
      float b = px[rowStart + gx.hi[ox]] & 0xff;
      out[ox] = a + (b - a) * gx.d32[ox];
    }
  }

  private static void horizontal64(byte[] px, int rowStart, Grid gx, double[] out) {
    for (int ox = 0; ox < out.length; ox++) {
      double a = px[rowStart + gx.lo[ox]] & 0xff;
      double b = px[rowStart + gx.hi[ox]] & 0xff;
      out[ox] = a + (b - a) * gx.d64[ox];
    }
  }

  /** Source indices and fractions along one axis. */
  private static final class Grid {
    final int[] lo;
    final int[] hi;
    final float[] d32;
    final double[] d64;

    Grid(int in, int out, boolean f64) {
      if (in < 1 || out < 1) {
        throw new IllegalArgumentException("sizes must be positive, got " + in + " -> " + out);
      }
      // torch.tensor(in / out, dtype=float32): Python's double quotient rounded to float32
      float scale = (float) ((double) in / out);
      lo = new int[out];
      hi = new int[out];
      d32 = new float[out];
      d64 = new double[out];
      for (int i = 0; i < out; i++) {
        // the grid is in the working dtype: float32 product, or float64 with the float32 scale
        float g = (float) i * scale;
        double g64 = (double) i * (double) scale;
        int l = f64 ? (int) g64 : (int) g;
        lo[i] = l;
        hi[i] = Math.min(l + 1, in - 1);
        d32[i] = g - (float) l;
        d64[i] = g64 - l;
      }
    }
  }
}
