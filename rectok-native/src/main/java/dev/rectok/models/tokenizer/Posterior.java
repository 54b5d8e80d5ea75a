package dev.rectok.models.tokenizer;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * The diagonal-Gaussian posterior of {@code models/gaussian.py} over the encoder output z = mean ‖
 * logvar (channels last): {@code logvar = clamp(z[..., C:], -30, 20)}, {@code std =
 * exp(0.5·logvar)}, {@code var = exp(logvar)}.
 *
 * <p>Owns its tensors ({@link #close}). Immutable after construction; safe to read from several
 * threads.
 *
 * @param parameters the raw encoder output (B, L, 2C)
 * @param mean (B, L, C)
 * @param logvar clamped, (B, L, C)
 * @param std (B, L, C)
 * @param var (B, L, C)
 */
public record Posterior(Tensor parameters, Tensor mean, Tensor logvar, Tensor std, Tensor var)
    implements AutoCloseable {
  static final double LOGVAR_MIN = -30.0;
  static final double LOGVAR_MAX = 20.0;

  /** Splits {@code z} (B, L, 2C); the posterior keeps a reference (alias) to it. */
  public static Posterior of(Tensor z) {
    int last = z.dim() - 1;
    long c = z.size(last) / 2;
    try (Scope s = Scope.open()) {
      Tensor mean = z.narrow(last, 0, c);
      Tensor logvar = z.narrow(last, c, c).clamp(LOGVAR_MIN, LOGVAR_MAX);
      Tensor std = logvar.mul(0.5).exp();
      Tensor var = logvar.exp();
      return new Posterior(
          s.keep(z.alias()), s.keep(mean), s.keep(logvar), s.keep(std), s.keep(var));
    }
  }

  /**
   * {@code mean + std · ε}, ε ~ N(0, 1) drawn from {@code gen} (null: LibTorch's default
   * generator).
   */
  public Tensor sample(TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      Tensor eps = Tensor.randn(mean.shape(), gen, mean.dtype(), mean.device());
      return s.keep(mean.add(std.mul(eps)));
    }
  }

  /** The mode: the mean (a new handle). */
  public Tensor mode() {
    return mean.alias();
  }

  /**
   * KL divergence to N(0, I) per sample: {@code 0.5 · Σ(mean² + var − 1 − logvar)} over all tokens
   * and channels, shape (B).
   */
  public Tensor kl() {
    try (Scope s = Scope.open()) {
      Tensor t = mean.pow(2).add(var).sub(1.0).sub(logvar);
      long[] dims = new long[t.dim() - 1];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = i + 1;
      }
      return s.keep(t.sum(dims, false).mul(0.5));
    }
  }

  @Override
  public void close() {
    parameters.close();
    mean.close();
    logvar.close();
    std.close();
    var.close();
  }
}
