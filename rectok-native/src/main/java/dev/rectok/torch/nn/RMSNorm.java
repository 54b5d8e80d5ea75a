package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * RMSNorm over the last dimension: {@code x * rsqrt(mean(x^2) + eps) * weight}, {@code weight}
 * ones. Owns its parameters; threading as for every {@link Module}: concurrent eval-mode forwards
 * are safe, training and loading are single-threaded.
 */
public final class RMSNorm extends UnaryModule {
  public final long dim;
  public final double eps;
  private final Parameter weight;

  public RMSNorm(long dim, double eps) {
    this.dim = dim;
    this.eps = eps;
    this.weight = registerParameter("weight", Tensor.ones(dim));
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.ones_(weight.data());
  }

  public Parameter weight() {
    return weight;
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.rmsNorm(input, new long[] {dim}, weight.data(), eps);
  }
}
