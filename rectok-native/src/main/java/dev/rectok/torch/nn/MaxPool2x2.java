package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;

/**
 * {@code nn.MaxPool2d(2, 2)}: returns a new tensor the caller owns. Parameter-free, safe to share
 * across threads.
 */
public final class MaxPool2x2 extends UnaryModule {
  /** The 2×2, stride-2 max pool. */
  public MaxPool2x2() {}

  @Override
  public Tensor forward(Tensor input) {
    return F.maxPool2d(input, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, false);
  }
}
