package dev.rectok.train.recipe;

import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.tokenizer.RecTokConfig;

/**
 * The architectures of the demo models trained on Fashion-MNIST at 32×32 (28×28 padded with
 * background): a RecTok tokenizer with patch 8 (a 4×4 grid of {@code tokenChannels}-wide tokens,
 * the paper's 16×16×128 scaled to a CPU budget), a DiT^DH over those latents (one token per latent
 * position, as the reference's patch size 1 requires), and a smaller DiT^DH as its AutoGuidance
 * companion. The teacher is {@link dev.rectok.train.teacher.TeacherTrainer#DEFAULT_MODEL}.
 * Stateless.
 */
public final class FashionMnistModels {
  /** Image side the demo models work at. */
  public static final int IMAGE_SIZE = 32;

  /** Tokenizer patch side: a 4×4 token grid, the teacher's patch grid too. */
  public static final int PATCH_SIZE = 8;

  /** Default latent width per token. */
  public static final int TOKEN_CHANNELS = 32;

  private FashionMnistModels() {}

  /**
   * The stage-1 tokenizer: encoder and decoder 2 blocks of width 128 (4 heads), a 1-block semantic
   * decoder of width 64 projecting to the teacher's {@code teacherWidth} features.
   */
  public static RecTokConfig tokenizer(int tokenChannels, int teacherWidth) {
    return RecTokConfig.builder()
        .imgSize(IMAGE_SIZE)
        .patchSize(PATCH_SIZE)
        .addSize("fmnist_enc", new RecTokConfig.ModelSize(128, 2, 4))
        .addSize("fmnist_dec", new RecTokConfig.ModelSize(128, 2, 4))
        .addSize("fmnist_sem", new RecTokConfig.ModelSize(64, 1, 4))
        .vitEncModelSize("fmnist_enc")
        .vitDecModelSize("fmnist_dec")
        .vitSemModelSize("fmnist_sem")
        .tokenChannels(tokenChannels)
        .foundationModelType("vit_teacher")
        .foundationHiddenSize(teacherWidth)
        .build();
  }

  /**
   * The generator: s-path 4 blocks of width 128, DDT head 2 blocks, 4 heads; 10 classes + the null
   * class.
   */
  public static DiTConfig generator(int tokenChannels) {
    return DiTConfig.builder()
        .imgSize(IMAGE_SIZE)
        .tokenizerPatchSize(PATCH_SIZE)
        .tokenChannels(tokenChannels)
        .hiddenSize(128, 128)
        .depth(4, 2)
        .numHeads(4, 4)
        .numClasses(10)
        .build();
  }

  /**
   * The AutoGuidance companion: the same latents through a weaker network (width 64, 2 + 1 blocks).
   */
  public static DiTConfig guide(int tokenChannels) {
    return generator(tokenChannels).toBuilder()
        .hiddenSize(64, 64)
        .depth(2, 1)
        .numHeads(2, 2)
        .build();
  }
}
