package dev.rectok.models.tokenizer;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.UnaryModule;

/**
 * {@code SwiGLUFFN}: {@code w3(silu(a) * b)} where (a, b) are the halves of {@code w12(x)}.
 * Owns its two Linears; forward passes in eval mode may run concurrently.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode forwards are safe; it owns its parameters.
 */
public final class SwiGLUFFN extends UnaryModule {
  private final Linear w12;
  private final Linear w3;
  private final long hidden;

  public SwiGLUFFN(long dim, long hidden) {
    this.hidden = hidden;
    this.w12 = registerModule("w12", new Linear(dim, 2 * hidden, true));
    this.w3 = registerModule("w3", new Linear(hidden, dim, true));
  }

  /** {@code int(2/3 * dim * mlp_ratio)} with the reference's mlp_ratio 4, in Python's double order. */
  public static long hiddenFor(long dim) {
    return (long) (2.0 / 3 * dim * 4.0);
  }

  @Override
  public Tensor forward(Tensor x) {
    try (Scope s = Scope.open()) {
      Tensor u = w12.forward(x);
      int last = u.dim() - 1;
      Tensor a = u.narrow(last, 0, hidden);
      Tensor b = u.narrow(last, hidden, hidden);
      return s.keep(w3.forward(a.silu().mul(b)));
    }
  }
}
