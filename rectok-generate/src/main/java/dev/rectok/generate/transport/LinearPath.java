package dev.rectok.generate.transport;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * The reference's linear interpolant (SiT {@code ICPlan}): x_t = t·x1 + (1 − t)·x0 with x0 the
 * noise (t = 0) and x1 the data (t = 1); the velocity target is x1 − x0.
 *
 * <p>Stateless and thread-safe. Arguments are borrowed; results are new tensors owned by the
 * caller.
 */
public final class LinearPath {
  private LinearPath() {}

  /**
   * x_t for a batch: {@code t} is a (B,) vector broadcast over the other dims of {@code x0} and
   * {@code x1}, computed in the reference's order {@code t*x1 + (1-t)*x0}.
   */
  public static Tensor interpolate(Tensor x0, Tensor x1, Tensor t) {
    try (Scope s = Scope.open()) {
      Tensor tb = broadcastable(t, x1);
      return s.keep(tb.mul(x1).add(tb.rsub(1.0).mul(x0)));
    }
  }

  /** The target velocity u_t = x1 − x0 (independent of t for this path). */
  public static Tensor velocityTarget(Tensor x0, Tensor x1) {
    return x1.sub(x0);
  }

  /** {@code t} (B,) viewed as (B, 1, ..., 1) to broadcast against {@code like}. */
  static Tensor broadcastable(Tensor t, Tensor like) {
    if (t.dim() != 1 || t.size(0) != like.size(0)) {
      throw new IllegalArgumentException(
          "t must be a (B,) vector for a batch of " + like.size(0) + ", got " + t);
    }
    long[] shape = new long[like.dim()];
    java.util.Arrays.fill(shape, 1);
    shape[0] = like.size(0);
    return t.reshape(shape);
  }
}
