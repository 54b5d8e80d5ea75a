package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.Linear(in_features, out_features, bias)}: parameters {@code weight} (out, in) and
 * {@code bias} (out). Owns its parameters; threading as for every {@link Module}: concurrent eval-mode
 * forwards are safe, training and loading are single-threaded.
 */
public final class Linear extends UnaryModule {
  public final long inFeatures;
  public final long outFeatures;
  private final Parameter weight;
  private final Parameter bias;

  public Linear(long inFeatures, long outFeatures, boolean bias) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
    this.bias = bias ? registerParameter("bias", Tensor.zeros(outFeatures)) : null;
    resetParameters(null);
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.defaultLinear(weight.data(), bias == null ? null : bias.data(), gen);
  }

  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.linear(input, weight.data(), bias == null ? null : bias.data());
  }

  @Override
  public String toString() {
    return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null) + ")";
  }
}
