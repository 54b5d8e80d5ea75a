package dev.rectok.generate.transport;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.TimeShift;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * Time laws of the reference's transport, computed exactly as it does in float32.
 *
 * <ul>
 *   <li>{@link #linspace}: PyTorch's float32 {@code torch.linspace}, which fills the first half as
 *       {@code start + i*step} and the second half as {@code end - (n-1-i)*step};
 *   <li>{@link #samplerGrid}: {@code transport/integrators.py ode.__init__}'s grid, t = 0 noise to
 *       t = 1 data, with the resolution shift;
 *   <li>{@link #trainingTimes}: the shifted training law of {@code Transport.sample}.
 * </ul>
 *
 * <p>Stateless and thread-safe. Host arrays are fresh copies; tensors are owned by the caller.
 */
public final class TimeGrid {
  private TimeGrid() {}

  /** The reference's resolution shift sqrt(h·w·c / 4096) ({@link TimeShift#resolution}). */
  public static double resolutionShift(long channels, long height, long width) {
    return TimeShift.resolution(channels, height, width);
  }

  /** Lanes of LibTorch's AVX2 float vector, which fixes where its linspace restarts a vector. */
  private static final int LANES = 8;

  /**
   * {@code torch.linspace(start, end, steps)} in float32, bit for bit with LibTorch 1.13's CPU
   * kernel (checked against case4's tables and against the bundled LibTorch). That kernel fills the
   * first half as {@code start + i*step} and the second half as {@code end - (n-1-i)*step} (so the
   * last value is exactly {@code end}), each as one fused multiply-add; in blocks of two 8-lane
   * vectors it computes only each vector's first value that way and the other lanes as {@code base
   * + j*step} (product rounded, then the sum); the tail after the last full block is scalar. Exact
   * for up to 32768 steps (above that LibTorch splits the work across threads).
   */
  public static float[] linspace(float start, float end, int steps) {
    if (steps < 0) {
      throw new IllegalArgumentException("steps must be non-negative, got " + steps);
    }
    float[] out = new float[steps];
    if (steps == 0) {
      return out;
    }
    if (steps == 1) {
      out[0] = start;
      return out;
    }
    float step = (end - start) / (float) (steps - 1);
    int halfway = steps / 2;
    int i = 0;
    for (; i <= steps - 2 * LANES; i += 2 * LANES) {
      for (int v = i; v < i + 2 * LANES; v += LANES) {
        // The vector's side (start- or end-anchored) is decided by its first index.
        float base = linspaceScalar(start, end, step, steps, halfway, v);
        out[v] = base;
        for (int j = 1; j < LANES; j++) {
          out[v + j] = base + (float) j * step;
        }
      }
    }
    for (; i < steps; i++) {
      out[i] = linspaceScalar(start, end, step, steps, halfway, i);
    }
    return out;
  }

  private static float linspaceScalar(
      float start, float end, float step, int steps, int halfway, int i) {
    return i < halfway
        ? Math.fma(step, (float) i, start)
        : Math.fma(-step, (float) (steps - 1 - i), end);
  }

  /**
   * The sampler's time grid of {@code points} values (points − 1 Euler steps), as {@code
   * ode.__init__}: tau = linspace(0, 1, points); if shift > 0, m = s·tau / (1 + (s−1)·tau) with s
   * and s−1 rounded to float32; if shift > 1, t = flip(m[last] − m) (small steps near the noise),
   * else t = m (not flipped; its last value can be 0.99999994). shift ≤ 0 gives tau.
   */
  public static float[] samplerGrid(int points, double shift) {
    if (points < 2) {
      throw new IllegalArgumentException("a sampler grid needs at least 2 points, got " + points);
    }
    float[] tau = linspace(0f, 1f, points);
    if (!(shift > 0)) {
      return tau;
    }
    float[] m = shifted(tau, shift);
    if (!(shift > 1)) {
      return m;
    }
    float last = m[points - 1];
    float[] t = new float[points];
    for (int i = 0; i < points; i++) {
      t[i] = last - m[points - 1 - i];
    }
    return t;
  }

  /** m = s·u / (1 + (s−1)·u) element-wise in float32, the reference's operand order. */
  static float[] shifted(float[] u, double shift) {
    float s = (float) shift;
    float sm1 = (float) (shift - 1);
    float[] m = new float[u.length];
    for (int i = 0; i < u.length; i++) {
      m[i] = s * u[i] / (1f + sm1 * u[i]);
    }
    return m;
  }

  /**
   * Training times for a batch (docs/generator.md#training-law): u ~ U(0,1) from {@code gen}; with
   * shift s > 1, t = 1 − s·u/(1 + (s−1)·u), which puts most t near 0 (noise); otherwise t = u.
   * Float32 (B,) on {@code device}.
   */
  public static Tensor trainingTimes(int batch, double shift, TorchGenerator gen, Device device) {
    try (Scope s = Scope.open()) {
      Tensor u = Tensor.rand(new long[] {batch}, gen, DType.FLOAT32, device);
      if (!(shift > 1)) {
        return s.keep(u);
      }
      return s.keep(shifted(u, shift).rsub(1.0));
    }
  }

  /** {@link #shifted(float[], double)} on a float32 tensor, same operand order and precision. */
  static Tensor shifted(Tensor u, double shift) {
    try (Scope s = Scope.open()) {
      return s.keep(u.mul(shift).div(u.mul(shift - 1).add(1.0)));
    }
  }
}
