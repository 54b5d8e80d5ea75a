package dev.rectok.train.loop;

import dev.rectok.torch.Tensor;

/**
 * One training batch: images (B, 3, H, W) in [−1, 1] (already flipped where the data pipeline
 * flips), int64 class labels (B), and each sample's dataset index (for precomputed teacher
 * features or latents).
 *
 * <p><b>Ownership.</b> The {@link BatchSource} that produced it owns the tensors and frees them
 * when the loop moves on; a {@link TrainingTask} must not close or keep them. Not thread-safe.
 */
public record Batch(Tensor images, Tensor labels, long[] indices, int epoch, int index) {

  /** Number of samples. */
  public int size() {
    return indices.length;
  }
}
