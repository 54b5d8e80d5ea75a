package dev.rectok.train.loss;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * The hinge GAN losses of taming-transformers / RecTok (docs/training.md#discriminator). Stateless;
 * thread-safe. Results belong to the caller (or the current scope).
 */
public final class HingeLoss {
  private HingeLoss() {}

  /**
   * Discriminator loss {@code 0.5·(mean(relu(1 − realLogits)) + mean(relu(1 + fakeLogits)))}
   * (taming's {@code hinge_d_loss}); pass the fake logits of detached reconstructions.
   */
  public static Tensor discriminator(Tensor realLogits, Tensor fakeLogits) {
    try (Scope s = Scope.open()) {
      Tensor real = realLogits.rsub(1.0).relu().mean();
      Tensor fake = fakeLogits.add(1.0).relu().mean();
      return s.keep(real.add(fake).mul(0.5));
    }
  }

  /** Generator loss {@code −mean(fakeLogits)}. */
  public static Tensor generator(Tensor fakeLogits) {
    try (Scope s = Scope.open()) {
      return s.keep(fakeLogits.mean().neg());
    }
  }
}
