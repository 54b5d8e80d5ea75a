package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.LayerNorm(normalized_shape, eps, elementwise_affine)}: {@code weight} ones, {@code
 * bias} zeros. Owns its parameters; threading as for every {@link Module}: concurrent eval-mode
 * forwards are safe, training and loading are single-threaded.
 */
public final class LayerNorm extends UnaryModule {
  private final long[] normalizedShape;
  public final double eps;
  private final Parameter weight;
  private final Parameter bias;

  public LayerNorm(long dim) {
    this(new long[] {dim}, 1e-5, true);
  }

  public LayerNorm(long[] normalizedShape, double eps, boolean elementwiseAffine) {
    this.normalizedShape = normalizedShape.clone();
    this.eps = eps;
    this.weight =
        elementwiseAffine ? registerParameter("weight", Tensor.ones(normalizedShape)) : null;
    this.bias = elementwiseAffine ? registerParameter("bias", Tensor.zeros(normalizedShape)) : null;
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    if (weight != null) {
      Init.ones_(weight.data());
      Init.zeros_(bias.data());
    }
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.layerNorm(
        input,
        normalizedShape,
        weight == null ? null : weight.data(),
        bias == null ? null : bias.data(),
        eps);
  }
}
