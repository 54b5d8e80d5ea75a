package dev.rectok.models.dinov3;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * DINOv3's axial RoPE ({@code RopePositionEmbedding}), inference form: patch centres normalised to
 * [−1, 1] per axis, angles {@code 2π·coord / period} for the D/4 periods of each axis, tiled twice
 * to the head width, applied in the rotate-half form to the patch tokens only (the cls and storage
 * tokens are a prefix left untouched). Everything is computed in float32 with the same ops as the
 * official code so the tables match it to rounding. The coordinate augmentations (shift, jitter,
 * rescale) only run in training and are absent here.
 *
 * <p>Stateless and thread-safe; results belong to the caller (or the current {@link Scope}).
 */
public final class DinoV3Rope {
  private DinoV3Rope() {}

  /** The sin and cos tables, each (H·W, head_dim), tokens row-major. The pair owns both. */
  public record Tables(Tensor sin, Tensor cos) implements AutoCloseable {
    @Override
    public void close() {
      sin.close();
      cos.close();
    }
  }

  /**
   * The {@code periods} buffer (head_dim / 4 values, float32): {@code base ** (2i / (head_dim/2))},
   * or with min/max periods {@code max · (max/min) ** (linspace(0, 1) − 1)} in the official order.
   */
  public static Tensor periods(DinoV3Config c) {
    int d = c.headDim();
    int n = d / 4;
    try (Scope s = Scope.open()) {
      Tensor p;
      if (!Double.isNaN(c.ropeBase())) {
        Tensor e = Tensor.arange(0, n, 1, DType.FLOAT32, Device.CPU).mul(2.0).div(d / 2);
        p = Tensor.full(new long[] {n}, c.ropeBase(), DType.FLOAT32, Device.CPU).pow(e);
      } else {
        double base = c.ropeMaxPeriod() / c.ropeMinPeriod();
        Tensor e = Tensor.linspace(0, 1, n, DType.FLOAT32, Device.CPU);
        p =
            Tensor.full(new long[] {n}, base, DType.FLOAT32, Device.CPU)
                .pow(e)
                .div(base)
                .mul(c.ropeMaxPeriod());
      }
      return s.keep(p);
    }
  }

  /**
   * The tables for an {@code h × w} patch grid ({@code RopePositionEmbedding.forward(H=h, W=w)}).
   *
   * @param periods {@link #periods}, on the device the tables should live on
   */
  public static Tables tables(DinoV3Config c, Tensor periods, int h, int w) {
    if (h <= 0 || w <= 0) {
      throw new IllegalArgumentException("patch grid must be positive, got " + h + "x" + w);
    }
    Device dev = periods.device();
    double dh;
    double dw;
    switch (c.normalizeCoords()) {
      case "max" -> dh = dw = Math.max(h, w);
      case "min" -> dh = dw = Math.min(h, w);
      default -> {
        dh = h;
        dw = w;
      }
    }
    try (Scope s = Scope.open()) {
      Tensor ch = Tensor.arange(0.5, h, 1, DType.FLOAT32, dev).div(dh);
      Tensor cw = Tensor.arange(0.5, w, 1, DType.FLOAT32, dev).div(dw);
      Tensor hh = ch.view(h, 1).expand(h, w).reshape((long) h * w);
      Tensor ww = cw.view(1, w).expand(h, w).reshape((long) h * w);
      Tensor coords =
          Tensor.stack(new Tensor[] {hh, ww}, 1).mul(2.0).sub(1.0); // [HW, 2] in [-1, 1]
      Tensor angles =
          coords.mul(2 * Math.PI).unsqueeze(2).div(periods.view(1, 1, -1)).flatten(1, 2);
      angles = Tensor.cat(new Tensor[] {angles, angles}, 1); // tile(2): [HW, D]
      Tensor sin = s.keep(angles.sin());
      Tensor cos = s.keep(angles.cos());
      return new Tables(sin, cos);
    }
  }

  /**
   * {@code x·cos + rotate_half(x)·sin} on the last {@code sin.size(0)} tokens of {@code x} (B,
   * heads, N, head_dim); the leading prefix tokens pass through. Computed in float32 and cast back
   * to {@code x}'s dtype, as the official {@code apply_rope} does.
   */
  public static Tensor apply(Tensor x, Tables t) {
    long n = x.size(2);
    long hw = t.sin().size(0);
    long prefix = n - hw;
    if (prefix < 0) {
      throw new IllegalArgumentException(
          "RoPE table has " + hw + " positions but only " + n + " tokens");
    }
    long d = x.size(3);
    try (Scope s = Scope.open()) {
      DType dt = x.dtype();
      Tensor xf = x.to(DType.FLOAT32);
      Tensor patches = xf.narrow(2, prefix, hw);
      Tensor x1 = patches.narrow(3, 0, d / 2);
      Tensor x2 = patches.narrow(3, d / 2, d / 2);
      Tensor rotated = Tensor.cat(new Tensor[] {x2.neg(), x1}, 3);
      Tensor roped = patches.mul(t.cos()).add(rotated.mul(t.sin()));
      Tensor out =
          prefix == 0 ? roped : Tensor.cat(new Tensor[] {xf.narrow(2, 0, prefix), roped}, 2);
      return s.keep(out.to(dt));
    }
  }
}
