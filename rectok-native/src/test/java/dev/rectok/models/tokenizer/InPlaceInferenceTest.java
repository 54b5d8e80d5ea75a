package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.SwiGLUFFN;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Issue 13's in-place inference paths (the tokenizer block's residual sums, SwiGLU's gate product)
 * give the same bits as the allocating path autograd takes.
 */
class InPlaceInferenceTest {

  static void reset(dev.rectok.torch.nn.Module m, TorchGenerator g) {
    m.resetParameters(g);
    m.children().values().forEach(c -> reset(c, g));
  }

  @Property(tries = 15)
  void tokenizerBlockInPlaceEqualsAllocating(
      @ForAll @IntRange(min = 1, max = 3) int batch,
      @ForAll @IntRange(min = 1, max = 3) int grid,
      @ForAll long seed) {
    int heads = 2;
    int dim = 32;
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed);
        Block block = new Block(dim, heads)) {
      reset(block, g);
      block.eval();
      Tensor x = Tensor.randn(g, batch, (long) grid * grid, dim);
      Tensor rope = TokenizerRope.table(dim / heads, grid, grid).unsqueeze(0);
      try (GradMode m = GradMode.inferenceMode()) {
        assertThat(GradMode.isGradEnabled()).isFalse();
        float[] inPlace = block.forward(x, rope).toFloatArray();
        // the allocating formula, x + f(x), from the block's own modules
        var kids = block.children();
        var norm1 = (dev.rectok.torch.nn.UnaryModule) kids.get("norm1");
        var norm2 = (dev.rectok.torch.nn.UnaryModule) kids.get("norm2");
        var mlp = (dev.rectok.torch.nn.UnaryModule) kids.get("mlp");
        Tensor y = x.add(block.attn().forward(norm1.forward(x), rope));
        float[] allocating = y.add(mlp.forward(norm2.forward(y))).toFloatArray();
        assertThat(inPlace).containsExactly(allocating);
      }
    }
  }

  @Property(tries = 15)
  void swigluInPlaceEqualsAllocating(
      @ForAll @IntRange(min = 1, max = 40) int rows, @ForAll long seed) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed);
        SwiGLUFFN ffn = new SwiGLUFFN(24, 40)) {
      reset(ffn, g);
      Tensor x = Tensor.randn(g, rows, 24);
      try (GradMode m = GradMode.noGrad()) {
        float[] inPlace = ffn.forward(x).toFloatArray();
        var kids = ffn.children();
        Tensor u = ((dev.rectok.torch.nn.Linear) kids.get("w12")).forward(x);
        Tensor gated = u.narrow(1, 0, 40).silu().mul(u.narrow(1, 40, 40));
        float[] allocating =
            ((dev.rectok.torch.nn.Linear) kids.get("w3")).forward(gated).toFloatArray();
        assertThat(inPlace).containsExactly(allocating);
      }
    }
  }
}
