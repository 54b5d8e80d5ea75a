package dev.rectok.models.dinov3;

import dev.rectok.api.DType;
import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * RecTok's image path to its DINOv3 teacher (README, "The DINOv3 teacher"): training images in [−1,
 * 1] → {@code (x + 1) / 2 · 255} cast to uint8 (truncation) → /255 → antialiased bilinear resize to
 * 224×224 (the transformers fast image processor's resize, as torchvision does it) → ImageNet
 * mean/std → bilinear {@code F.interpolate} back up to the target size ({@code
 * align_corners=False}). The round trip through 224 is the reference's quirk and is kept.
 *
 * <p>Stateless and thread-safe; results belong to the caller (or the current {@link Scope}).
 */
public final class TeacherImagePath {
  /** The processor's resize target. */
  public static final int PROCESSOR_SIZE = 224;

  private static final double[] MEAN = {0.485, 0.456, 0.406};
  private static final double[] STD = {0.229, 0.224, 0.225};

  private TeacherImagePath() {}

  /**
   * Step 2: {@code ((x + 1) / 2 · 255).to(uint8)}, truncating, on (B, 3, H, W) images in [−1, 1].
   */
  public static Tensor toUint8(Tensor images) {
    check(images);
    try (Scope s = Scope.open()) {
      return s.keep(images.to(DType.FLOAT32).add(1.0).div(2.0).mul(255.0).to(DType.UINT8));
    }
  }

  /** Step 3: the processor's output, (B, 3, 224, 224) float32, from uint8 images. */
  public static Tensor processor(Tensor uint8) {
    try (Scope s = Scope.open()) {
      Tensor x = uint8.to(DType.FLOAT32).div(255.0);
      x = F.interpolate(x, PROCESSOR_SIZE, PROCESSOR_SIZE, F.Interpolation.BILINEAR, false, true);
      Tensor mean =
          Tensor.of(new double[] {MEAN[0], MEAN[1], MEAN[2]}, 1, 3, 1, 1)
              .to(DType.FLOAT32, x.device());
      Tensor std =
          Tensor.of(new double[] {STD[0], STD[1], STD[2]}, 1, 3, 1, 1)
              .to(DType.FLOAT32, x.device());
      return s.keep(x.sub(mean).div(std));
    }
  }

  /**
   * The whole path: the pixel values the teacher sees, (B, 3, outH, outW) float32.
   *
   * @param images (B, 3, H, W) in [−1, 1], any float dtype
   * @param outH the height to interpolate back up to (the reference: the tokenizer's image size)
   * @param outW the width
   */
  public static Tensor pixelValues(Tensor images, long outH, long outW) {
    if (outH <= 0 || outW <= 0) {
      throw new IllegalArgumentException("target size must be positive, got " + outH + "x" + outW);
    }
    try (Scope s = Scope.open()) {
      Tensor p = processor(toUint8(images));
      return s.keep(F.interpolate(p, outH, outW, F.Interpolation.BILINEAR, false, false));
    }
  }

  private static void check(Tensor images) {
    if (images.dim() != 4 || images.size(1) != 3) {
      throw new IllegalArgumentException(
          "the teacher path expects (B, 3, H, W) RGB images in [-1, 1], got "
              + java.util.Arrays.toString(images.shape()));
    }
  }
}
