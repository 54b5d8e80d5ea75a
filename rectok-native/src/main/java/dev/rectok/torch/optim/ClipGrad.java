package dev.rectok.torch.optim;

import dev.rectok.torch.Foreach;
import dev.rectok.torch.nn.Parameter;
import java.util.Collection;

/**
 * {@code torch.nn.utils.clip_grad_norm_}. Stateless; not safe against concurrent backward passes.
 */
public final class ClipGrad {
  private ClipGrad() {}

  /**
   * Scales the gradients so their global {@code normType}-norm is at most {@code maxNorm}
   * (multiplying by {@code min(1, maxNorm / (norm + 1e-6))}, as PyTorch).
   *
   * @return the total norm before clipping
   */
  public static double clipGradNorm(Collection<Parameter> params, double maxNorm, double normType) {
    return Foreach.clipGradNorm_(
        params.stream().map(Parameter::data).toArray(dev.rectok.torch.Tensor[]::new),
        maxNorm,
        normType);
  }

  /** The 2-norm variant. */
  public static double clipGradNorm(Collection<Parameter> params, double maxNorm) {
    return clipGradNorm(params, maxNorm, 2.0);
  }
}
