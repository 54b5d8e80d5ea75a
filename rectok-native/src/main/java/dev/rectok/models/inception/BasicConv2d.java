package dev.rectok.models.inception;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.BatchNorm2d;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.UnaryModule;

/**
 * torch-fidelity's {@code BasicConv2d}: a convolution without bias, {@code BatchNorm2d(eps=0.001)}
 * in eval mode, ReLU. Keys {@code conv.weight}, {@code bn.{weight,bias,running_mean,running_var}}.
 * Ownership and threading as for every {@link dev.rectok.torch.nn.Module}.
 */
final class BasicConv2d extends UnaryModule {
  /** TensorFlow's batch-norm epsilon, kept by the converted weights. */
  static final double BN_EPS = 0.001;

  private final Conv2d conv;
  private final BatchNorm2d bn;

  BasicConv2d(long in, long out, long kh, long kw, long stride, long ph, long pw) {
    conv =
        registerModule(
            "conv",
            new Conv2d(
                in,
                out,
                new long[] {kh, kw},
                new long[] {stride, stride},
                new long[] {ph, pw},
                new long[] {1, 1},
                1,
                false));
    bn = registerModule("bn", new BatchNorm2d(out, BN_EPS, 0.1));
  }

  BasicConv2d(long in, long out, long k) {
    this(in, out, k, k, 1, 0, 0);
  }

  @Override
  public Tensor forward(Tensor x) {
    try (Scope s = Scope.open()) {
      return s.keep(bn.forward(conv.forward(x)).relu());
    }
  }
}
