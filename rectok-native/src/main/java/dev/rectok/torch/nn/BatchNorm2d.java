package dev.rectok.torch.nn;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.BatchNorm2d(num_features, eps, momentum)}: {@code weight}, {@code bias} and the
 * persistent buffers {@code running_mean}, {@code running_var}, {@code num_batches_tracked}. In
 * training mode it normalises with batch statistics and updates the running ones.
 *
 * <p>Owns its parameters; threading as for every {@link Module}: concurrent eval-mode forwards are
 * safe, training and loading are single-threaded.
 */
public final class BatchNorm2d extends UnaryModule {
  public final long numFeatures;
  public final double eps;
  public final double momentum;
  private final Parameter weight;
  private final Parameter bias;

  public BatchNorm2d(long numFeatures) {
    this(numFeatures, 1e-5, 0.1);
  }

  public BatchNorm2d(long numFeatures, double eps, double momentum) {
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = registerParameter("weight", Tensor.ones(numFeatures));
    this.bias = registerParameter("bias", Tensor.zeros(numFeatures));
    registerBuffer("running_mean", Tensor.zeros(numFeatures), true);
    registerBuffer("running_var", Tensor.ones(numFeatures), true);
    registerBuffer("num_batches_tracked", Tensor.zeros(new long[0], DType.INT64, Device.CPU), true);
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.ones_(weight.data());
    Init.zeros_(bias.data());
    Init.zeros_(buffer("running_mean"));
    Init.ones_(buffer("running_var"));
    Init.zeros_(buffer("num_batches_tracked"));
  }

  @Override
  public Tensor forward(Tensor input) {
    if (isTraining()) {
      try (GradMode g = GradMode.noGrad()) {
        buffer("num_batches_tracked").add_(1.0);
      }
    }
    return F.batchNorm(
        input,
        buffer("running_mean"),
        buffer("running_var"),
        weight.data(),
        bias.data(),
        isTraining(),
        momentum,
        eps);
  }
}
