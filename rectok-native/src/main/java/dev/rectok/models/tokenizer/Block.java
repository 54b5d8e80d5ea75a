package dev.rectok.models.tokenizer;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.RMSNorm;
import dev.rectok.torch.nn.SwiGLUFFN;

/**
 * Pre-norm transformer block shared by the encoder, decoder and semantic decoder: {@code y = x +
 * attn(norm1(x), rope)}, {@code out = y + mlp(norm2(y))}; RMSNorm eps 1e-6, SwiGLU hidden {@code
 * int(2/3 · 4 · dim)}. Owns its layers; eval-mode forward passes may run concurrently.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode
 * forwards are safe; it owns its parameters.
 */
public final class Block extends Module {
  static final double NORM_EPS = 1e-6;
  private final RMSNorm norm1;
  private final RMSNorm norm2;
  private final Attention attn;
  private final SwiGLUFFN mlp;

  public Block(long dim, int numHeads) {
    // Registration order gives the reference's key order: norm1, norm2, attn, mlp.
    this.norm1 = registerModule("norm1", new RMSNorm(dim, NORM_EPS));
    this.norm2 = registerModule("norm2", new RMSNorm(dim, NORM_EPS));
    this.attn = registerModule("attn", new Attention(dim, numHeads));
    this.mlp = registerModule("mlp", new SwiGLUFFN(dim, swigluHidden(dim)));
  }

  public Attention attn() {
    return attn;
  }

  public Tensor forward(Tensor x, Tensor rope) {
    try (Scope s = Scope.open()) {
      if (!dev.rectok.torch.GradMode.isGradEnabled()) {
        // Inference: each residual sum is written into the branch output (x + f(x) == f(x) + x
        // bit for bit), two activations fewer per block (issue 13).
        Tensor y = attn.forward(norm1.forward(x), rope).add_(x);
        return s.keep(mlp.forward(norm2.forward(y)).add_(y));
      }
      Tensor y = x.add(attn.forward(norm1.forward(x), rope));
      return s.keep(y.add(mlp.forward(norm2.forward(y))));
    }
  }

  /**
   * {@code int(2/3 * dim * mlp_ratio)} with the reference's mlp_ratio 4, in Python's double order.
   */
  static long swigluHidden(long dim) {
    return (long) (2.0 / 3 * dim * 4.0);
  }
}
