package dev.rectok.train.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loss.ModuleTeacher;
import java.util.function.UnaryOperator;

/**
 * Tiny stage-1 settings for fast trainer tests: 32 px, patch 4 (64 tokens), widths 32/24, 8
 * channels.
 */
final class TinyTokenizer {
  static final int TEACHER_DIM = 16;

  private TinyTokenizer() {}

  static RecTokConfig modelConfig() {
    return RecTokConfig.builder()
        .imgSize(32)
        .patchSize(4)
        .tokenChannels(8)
        .encoderDecoder(new RecTokConfig.ModelSize(32, 1, 2), new RecTokConfig.ModelSize(32, 1, 2))
        .addSize("tiny_sem", new RecTokConfig.ModelSize(24, 1, 2))
        .vitSemModelSize("tiny_sem")
        .encoderType("encoder")
        .foundationModelType("dinov3")
        .foundationHiddenSize(TEACHER_DIM)
        .maskRatio(0.4)
        .gamma(1.0)
        .build();
  }

  /**
   * Stage 1 with a fixed mask ratio of 0.25 (so mask tokens always get gradients) and the GAN from
   * epoch 0.
   */
  static TokenizerTrainingConfig.Builder stage1() {
    return TokenizerTrainingConfig.builder()
        .epochs(10)
        .batchSize(4)
        .lr(1e-3)
        .warmupRate(0.0)
        .maskRatioMin(0.25)
        .maskRatio(0.25)
        .discriminatorStartEpoch(0)
        .discriminatorNdf(8)
        .seed(7);
  }

  /** A random frozen patch projection (B, 3, 32, 32) → (B, 64, 16): the stand-in for DINOv3. */
  static ModuleTeacher teacher(long seed) {
    Conv2d proj = new Conv2d(3, TEACHER_DIM, 4, 4, 0);
    try (TorchGenerator g = TorchGenerator.cpu(seed)) {
      proj.resetParameters(g);
    }
    return new ModuleTeacher(proj, UnaryOperator.identity());
  }

  /** Random images in [−1, 1] (owned by the current scope). */
  static Tensor images(long n, long seed) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed)) {
      return s.keep(
          Tensor.rand(new long[] {n, 3, 32, 32}, g, DType.FLOAT32, Device.CPU).mul(2).sub(1));
    }
  }

  static Batch batch(Tensor images) {
    long n = images.size(0);
    long[] idx = new long[(int) n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    return new Batch(images, Tensor.zeros(new long[] {n}, DType.INT64, Device.CPU), idx, 0, 0);
  }
}
