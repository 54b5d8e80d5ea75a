package dev.rectok.train.loop;

import dev.rectok.torch.Tensor;

/**
 * One training batch: images (B, 3, H, W) in [−1, 1] (already flipped where the data pipeline
 * flips), int64 class labels (B), and each sample's dataset index (for precomputed teacher features
 * or latents).
 *
 * <p><b>Ownership.</b> Whoever takes it from a {@link BatchSource} owns the two tensors and closes
 * the batch ({@link TrainLoop} does so right after the step); a {@link TrainingTask} must neither
 * close nor keep them. Not thread-safe.
 */
public record Batch(Tensor images, Tensor labels, long[] indices, int epoch, int index)
    implements AutoCloseable {

  @Override
  public void close() {
    images.close();
    labels.close();
  }

  /** Number of samples. */
  public int size() {
    return indices.length;
  }
}
