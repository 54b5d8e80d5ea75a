package dev.rectok.image;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * The two pixel ranges of the SDK, and the one place that maps between them: models see images in
 * [-1, 1] (torchvision's {@code Normalize([0.5]*3, [0.5]*3)}), metrics, teachers and files see them
 * in [0, 1]. The arithmetic is exactly the reference's ({@code x*0.5 + 0.5} and {@code x*2 - 1}, in
 * that order), so results are bit-identical to the inlined forms.
 *
 * <p>Stateless and thread-safe. Inputs are only read (autograd flows through); every returned
 * tensor is owned by the caller (or by the caller's open {@link Scope}); intermediates are freed.
 */
public final class PixelRange {
  private PixelRange() {}

  /** [-1, 1] to [0, 1]: {@code x*0.5 + 0.5}, not clamped. */
  public static Tensor toUnit(Tensor x) {
    try (Scope s = Scope.open()) {
      return s.keep(x.mul(0.5).add(0.5));
    }
  }

  /** [-1, 1] to [0, 1], clamped: {@code clamp(x*0.5 + 0.5, 0, 1)}, as images are saved. */
  public static Tensor toUnitClamped(Tensor x) {
    try (Scope s = Scope.open()) {
      return s.keep(x.mul(0.5).add(0.5).clamp(0.0, 1.0));
    }
  }

  /** [0, 1] to [-1, 1]: {@code x*2 - 1}, not clamped. */
  public static Tensor toSigned(Tensor x) {
    try (Scope s = Scope.open()) {
      return s.keep(x.mul(2).sub(1));
    }
  }
}
