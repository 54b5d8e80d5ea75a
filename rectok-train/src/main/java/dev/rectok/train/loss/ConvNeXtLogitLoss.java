package dev.rectok.train.loss;

import dev.rectok.api.DType;
import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Module;
import java.nio.file.Path;

/**
 * The ConvNeXt term of RecTok's perceptual loss (docs/training.md#loss-terms, {@code
 * PerceptualLoss} with {@code "lpips-convnext_s-1.0-0.1"}): both images, in [0, 1], are resized to
 * {@code size}×{@code size} (bilinear, antialias, {@code align_corners=False}; 224 in the
 * reference), normalised with the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
 * 0.225), classified by a frozen torchvision ConvNeXt (convnext_small in the reference), and the
 * loss is the MSE between the two logit vectors (mean over batch and classes). The target image's
 * logits are computed without autograd (the reference detaches the target branch); gradients flow
 * to the prediction only.
 *
 * <p>The classifier is frozen and always in eval mode ({@link #train} is ignored).
 *
 * <p><b>Ownership and threading.</b> Owns the classifier. Concurrent {@link #forward} calls are
 * safe once loading is done; results belong to the caller (or the current scope).
 */
public final class ConvNeXtLogitLoss extends Module {
  private static final double[] MEAN = {0.485, 0.456, 0.406};
  private static final double[] STD = {0.229, 0.224, 0.225};

  private final ConvNeXt model;
  private final long size;

  /**
   * @param model the classifier (ownership moves here), e.g. {@code ConvNeXt.small().load(file)}
   * @param size the side both images are resized to (224 in the reference)
   */
  public ConvNeXtLogitLoss(ConvNeXt model, long size) {
    this.model = registerModule("model", model);
    this.size = size;
    registerBuffer("mean", Tensor.of(MEAN, 1, 3, 1, 1).to(DType.FLOAT32), false);
    registerBuffer("std", Tensor.of(STD, 1, 3, 1, 1).to(DType.FLOAT32), false);
    requiresGrad_(false);
    super.train(false);
  }

  /** convnext_small with weights from a torchvision safetensors or .pth file, at 224×224. */
  public static ConvNeXtLogitLoss convnextSmall(Path weights) {
    return new ConvNeXtLogitLoss(ConvNeXt.small().load(weights), 224);
  }

  /** The classifier. */
  public ConvNeXt model() {
    return model;
  }

  @Override
  public Module train(boolean mode) {
    return super.train(false);
  }

  /** Logits of (B, 3, H, W) images in [0, 1] after resizing and ImageNet normalisation. */
  public Tensor logits(Tensor images) {
    try (Scope s = Scope.open()) {
      Tensor x = images;
      if (x.size(2) != size || x.size(3) != size) {
        x = F.interpolate(x, size, size, F.Interpolation.BILINEAR, false, true);
      }
      x =
          x.sub(buffer("mean").to(x.dtype(), x.device()))
              .div(buffer("std").to(x.dtype(), x.device()));
      return s.keep(model.forward(x));
    }
  }

  /** Scalar MSE between the logits of {@code prediction} and of {@code target} (no grad to it). */
  public Tensor forward(Tensor prediction, Tensor target) {
    try (Scope s = Scope.open()) {
      Tensor t;
      try (dev.rectok.torch.GradMode g = dev.rectok.torch.GradMode.noGrad()) {
        t = logits(target);
      }
      return s.keep(F.mseLoss(logits(prediction), t));
    }
  }
}
