package dev.rectok.train.distributed;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.tokenizer.TrainingNoise;

/**
 * A {@link TrainingNoise} that draws every per-sample tensor for the global batch and returns this
 * rank's rows ({@link DataParallel#rows}); the scalar mask ratio is drawn as is (the same on every
 * rank). Borrows the wrapped source (its owner closes it); not thread-safe, like the source.
 */
final class ShardedNoise implements TrainingNoise {
  private final TrainingNoise noise;

  ShardedNoise(TrainingNoise noise) {
    this.noise = noise;
  }

  @Override
  public double maskRatio(double lo, double hi) {
    return noise.maskRatio(lo, hi);
  }

  @Override
  public Tensor maskNoise(long batch, long seqLen, Device device) {
    try (Scope s = Scope.open()) {
      return s.keep(
          DataParallel.rows(noise.maskNoise(batch * DataParallel.worldSize(), seqLen, device)));
    }
  }

  @Override
  public Tensor posteriorEps(long[] shape, Device device) {
    try (Scope s = Scope.open()) {
      return s.keep(DataParallel.rows(noise.posteriorEps(DataParallel.globalShape(shape), device)));
    }
  }

  @Override
  public Tensor tauUniform(long batch, Device device) {
    try (Scope s = Scope.open()) {
      return s.keep(DataParallel.rows(noise.tauUniform(batch * DataParallel.worldSize(), device)));
    }
  }

  @Override
  public Tensor latentEps(long[] shape, Device device) {
    try (Scope s = Scope.open()) {
      return s.keep(DataParallel.rows(noise.latentEps(DataParallel.globalShape(shape), device)));
    }
  }

  /** The wrapped source is borrowed: nothing to free. */
  @Override
  public void close() {}
}
