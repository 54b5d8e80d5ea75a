package dev.rectok.torch.nn;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * {@code SwiGLUFFN}: {@code w3(silu(a) * b)} where (a, b) are the halves of {@code w12(x)}, both
 * Linears with bias (the layout of the RecTok tokenizer and DiT^DH blocks). Owns its two Linears;
 * threading as for every {@link Module}: concurrent eval-mode forwards are safe.
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

  @Override
  public Tensor forward(Tensor x) {
    try (Scope s = Scope.open()) {
      Tensor u = w12.forward(x);
      int last = u.dim() - 1;
      Tensor a = u.narrow(last, 0, hidden);
      Tensor b = u.narrow(last, hidden, hidden);
      Tensor act = a.silu();
      // Without autograd the gate product overwrites silu's output: the same values, one
      // activation fewer per block (issue 13; under autograd mul_ would clobber what silu's
      // backward pass reads).
      return s.keep(
          w3.forward(dev.rectok.torch.GradMode.isGradEnabled() ? act.mul(b) : act.mul_(b)));
    }
  }
}
