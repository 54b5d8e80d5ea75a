package dev.rectok.train.loss;

import dev.rectok.torch.Tensor;

/**
 * The frozen vision model whose patch features the semantic decoder is distilled towards
 * (docs/training.md#rad). Implementations compute features without autograd and are never trained.
 *
 * <p><b>Ownership.</b> The returned tensor, (B, N, D), does not require grad and belongs to the
 * caller (or the current scope). {@link #close} frees whatever the teacher holds (a model, open
 * files). <b>Threading</b> is stated by each implementation.
 */
public interface FeatureTeacher extends AutoCloseable {

  /**
   * Patch features (B, N, D) of a batch.
   *
   * @param images (B, 3, H, W) images in the training pipeline's [−1, 1] range
   * @param sampleIndices dataset index of each image (length B); teachers that compute features
   *     from the pixels may ignore it, precomputed ones look features up by it
   */
  Tensor features(Tensor images, long[] sampleIndices);

  @Override
  void close();
}
