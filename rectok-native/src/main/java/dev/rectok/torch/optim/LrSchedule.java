package dev.rectok.torch.optim;

/**
 * A learning rate as a function of the (fractional) epoch, the way the reference's {@code
 * adjust_learning_rate} is called every step. Implementations are immutable and thread-safe.
 */
@FunctionalInterface
public interface LrSchedule {

  /**
   * The learning rate at fractional epoch {@code epoch} (e.g. {@code epoch + step /
   * stepsPerEpoch}).
   */
  double lr(double epoch);

  /** Sets every group's lr for {@code epoch}; returns it. */
  default double apply(Optimizer optimizer, double epoch) {
    double lr = lr(epoch);
    optimizer.paramGroups().forEach(g -> g.lr(lr));
    return lr;
  }

  /**
   * Linear warmup from 0 to {@code lr} over {@code warmupEpochs}, then a half cosine to {@code
   * minLr} at {@code epochs} (MAE's {@code adjust_learning_rate}, used for the tokenizer).
   */
  static LrSchedule warmupCosine(double lr, double minLr, double warmupEpochs, double epochs) {
    if (!(epochs > warmupEpochs) || warmupEpochs < 0) {
      throw new IllegalArgumentException(
          "need 0 <= warmup_epochs < epochs, got " + warmupEpochs + ", " + epochs);
    }
    return epoch -> {
      if (epoch < warmupEpochs) {
        return lr * epoch / warmupEpochs;
      }
      double progress = Math.min(1.0, (epoch - warmupEpochs) / (epochs - warmupEpochs));
      return minLr + (lr - minLr) * 0.5 * (1.0 + Math.cos(Math.PI * progress));
    };
  }

  /**
   * Constant {@code lr} until {@code constantEpochs}, then linear decay to {@code minLr} at {@code
   * endEpoch}, then constant {@code minLr} (the reference's {@code --ditdh_sched} for the
   * generator).
   */
  static LrSchedule constantThenLinear(
      double lr, double minLr, double constantEpochs, double endEpoch) {
    if (!(endEpoch > constantEpochs)) {
      throw new IllegalArgumentException(
          "need constant_epochs < end_epoch, got " + constantEpochs + ", " + endEpoch);
    }
    return epoch -> {
      if (epoch <= constantEpochs) {
        return lr;
      }
      if (epoch >= endEpoch) {
        return minLr;
      }
      return lr + (minLr - lr) * (epoch - constantEpochs) / (endEpoch - constantEpochs);
    };
  }
}
