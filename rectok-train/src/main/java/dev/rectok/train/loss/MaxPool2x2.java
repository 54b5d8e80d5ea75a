package dev.rectok.train.loss;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.UnaryModule;

/** {@code nn.MaxPool2d(2, 2)}: parameter-free, safe to share across threads. */
final class MaxPool2x2 extends UnaryModule {
  @Override
  public Tensor forward(Tensor input) {
    return F.maxPool2d(input, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, false);
  }
}
