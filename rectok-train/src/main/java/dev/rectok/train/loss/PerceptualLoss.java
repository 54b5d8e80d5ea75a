package dev.rectok.train.loss;

import dev.rectok.image.PixelRange;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Module;

/**
 * RecTok's perceptual term (docs/training.md#loss-terms, {@code
 * perceptual_loss="lpips-convnext_s-1.0-0.1"}): {@code (wLpips·mean LPIPS +
 * wConvNext·ConvNeXt-logit MSE) / (wLpips + wConvNext)} over the terms that are present, on images
 * in [0, 1]; LPIPS sees them mapped to [−1, 1]. A term whose module is null (no weights file was
 * given) is off and its weight leaves the denominator; the first time that happens it is logged
 * once. With neither term, {@link #forward} returns 0.
 *
 * <p>Both sub-modules are frozen and stay in eval mode; gradients flow to the prediction.
 *
 * <p><b>Ownership and threading.</b> Owns the sub-modules it is given. Concurrent {@link #forward}
 * calls are safe; results belong to the caller (or the current scope).
 */
public final class PerceptualLoss extends Module {
  private static final System.Logger LOG = System.getLogger(PerceptualLoss.class.getName());

  private final LPIPS lpips;
  private final ConvNeXtLogitLoss convnext;
  private final double lpipsWeight;
  private final double convnextWeight;

  /**
   * @param lpips the LPIPS module, or null for off (ownership moves here)
   * @param convnext the ConvNeXt-logit module, or null for off (ownership moves here)
   * @param lpipsWeight 1.0 in the reference
   * @param convnextWeight 0.1 in the reference
   */
  public PerceptualLoss(
      LPIPS lpips, ConvNeXtLogitLoss convnext, double lpipsWeight, double convnextWeight) {
    this.lpips = lpips == null ? null : registerModule("lpips", lpips);
    this.convnext = convnext == null ? null : registerModule("convnext", convnext);
    this.lpipsWeight = lpipsWeight;
    this.convnextWeight = convnextWeight;
    if (lpips == null) {
      LOG.log(
          System.Logger.Level.INFO,
          "perceptual loss: no LPIPS weights given, the LPIPS term is off");
    }
    if (convnext == null) {
      LOG.log(
          System.Logger.Level.INFO,
          "perceptual loss: no ConvNeXt weights given, the ConvNeXt-logit term is off");
    }
    super.train(false);
  }

  /** Whether at least one term is on. */
  public boolean isActive() {
    return lpips != null || convnext != null;
  }

  @Override
  public Module train(boolean mode) {
    return super.train(false);
  }

  /** The scalar loss between a prediction and a target, both (B, 3, H, W) in [0, 1]. */
  public Tensor forward(Tensor prediction, Tensor target) {
    try (Scope s = Scope.open()) {
      Tensor total = Tensor.scalar(0.0).to(prediction.dtype(), prediction.device());
      double weights = 0;
      if (lpips != null) {
        Tensor l = lpips.loss(PixelRange.toSigned(prediction), PixelRange.toSigned(target));
        total = total.add(l.mul(lpipsWeight));
        weights += lpipsWeight;
      }
      if (convnext != null) {
        total = total.add(convnext.forward(prediction, target).mul(convnextWeight));
        weights += convnextWeight;
      }
      return s.keep(weights == 0 ? total : total.div(weights));
    }
  }
}
