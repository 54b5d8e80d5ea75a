package dev.rectok.models.tokenizer;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.UnaryModule;
import java.util.function.UnaryOperator;

/**
 * A parameter-free reshaping step ({@code einops.layers.torch.Rearrange}). It exists so that the
 * surrounding {@code Sequential} numbers its children like the reference ({@code ffn.1} is the conv
 * between two rearranges). Stateless.
 */
final class Rearrange extends UnaryModule {
  private final String pattern;
  private final UnaryOperator<Tensor> op;

  Rearrange(String pattern, UnaryOperator<Tensor> op) {
    this.pattern = pattern;
    this.op = op;
  }

  @Override
  public Tensor forward(Tensor input) {
    return op.apply(input);
  }

  @Override
  public String toString() {
    return "Rearrange('" + pattern + "')";
  }
}
