package dev.rectok.generate.transport;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * One flow-matching training batch (docs/generator.md#training-law, SiT {@code
 * Transport.training_losses} with {@code prediction="velocity"}, {@code loss_weight="none"}): noise
 * x0, times t, the interpolant x_t and the velocity target x1 − x0 for data x1.
 *
 * <p>Owns its four tensors: close it (or let the enclosing {@link Scope} free them). Not
 * thread-safe for closing.
 *
 * @param t float32 (B,) times, t = 0 noise, t = 1 data
 * @param x0 noise shaped like the data
 * @param xt the model input t·x1 + (1 − t)·x0
 * @param target the velocity the model must predict, x1 − x0
 */
public record TrainingBatch(Tensor t, Tensor x0, Tensor xt, Tensor target)
    implements AutoCloseable {

  /**
   * Draws a batch for data {@code x1} (B, ...): x0 ~ N(0, I) first, then the shifted times ({@link
   * TimeGrid#trainingTimes}), both from {@code gen} on {@code x1}'s device. The draw order is fixed
   * so that a seed reproduces the batch; it is not the reference's RNG stream. {@code x1} is
   * borrowed.
   */
  public static TrainingBatch draw(Tensor x1, double shift, TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      Tensor x0 = Tensor.randn(x1.shape(), gen, x1.dtype(), x1.device());
      Tensor t = TimeGrid.trainingTimes((int) x1.size(0), shift, gen, x1.device());
      Tensor xt = LinearPath.interpolate(x0, x1, t);
      Tensor target = LinearPath.velocityTarget(x0, x1);
      return new TrainingBatch(s.keep(t), s.keep(x0), s.keep(xt), s.keep(target));
    }
  }

  /**
   * The reference's loss for a prediction of {@link #target}: mean over the non-batch dims of the
   * squared error, then mean over the batch. A scalar tensor owned by the caller; gradients flow
   * into {@code predicted}.
   */
  public Tensor loss(Tensor predicted) {
    try (Scope s = Scope.open()) {
      long[] dims = new long[target.dim() - 1];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = i + 1;
      }
      Tensor perSample = predicted.sub(target).pow(2).mean(dims, false);
      return s.keep(perSample.mean());
    }
  }

  @Override
  public void close() {
    target.close();
    xt.close();
    x0.close();
    t.close();
  }
}
