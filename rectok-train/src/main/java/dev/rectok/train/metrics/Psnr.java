package dev.rectok.train.metrics;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Peak signal-to-noise ratio between image batches in {@code [-1, 1]}, in dB, per image and
 * averaged over images. Both batches are clamped to {@code [-1, 1]} (as saving them as images
 * would) and mapped to {@code [0, 1]}, so with peak 1:
 *
 * <pre>
 *   mse_i  = mean over C,H,W of ((a_i − b_i) / 2)²
 *   PSNR_i = 10 · log10(1 / max(mse_i, 1e-10))      PSNR = (1/B) Σ_i PSNR_i
 * </pre>
 *
 * Identical images would give +∞; the MSE is floored at {@link #MIN_MSE} so they score {@link
 * #MAX_DB} (100 dB) and the mean stays finite. The arithmetic is done in float64 on the batches'
 * device. Stateless and thread-safe; the caller keeps ownership of the tensors passed.
 */
public final class Psnr {
  /** Floor on the per-image MSE, so identical images give {@link #MAX_DB} instead of +∞. */
  public static final double MIN_MSE = 1e-10;

  /** The PSNR of identical images: {@code 10·log10(1/MIN_MSE)} = 100 dB. */
  public static final double MAX_DB = 100.0;

  private Psnr() {}

  /** PSNR of each image pair of batches (B, ...) of equal shape. */
  public static double[] perImage(Tensor a, Tensor b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException(
          "image batches differ in shape: "
              + Arrays.toString(a.shape())
              + " vs "
              + Arrays.toString(b.shape()));
    }
    if (a.dim() < 2 || a.size(0) < 1 || a.numel() == 0) {
      throw new IllegalArgumentException(
          "expected a non-empty batch (B, ...) , got " + Arrays.toString(a.shape()));
    }
    double[] mse;
    try (Scope s = Scope.open()) {
      Tensor diff = a.to(DType.FLOAT64).clamp(-1, 1).sub(b.to(DType.FLOAT64).clamp(-1, 1)).mul(0.5);
      mse = diff.mul(diff).flatten(1, -1).mean(new long[] {1}, false).toDoubleArray();
    }
    double[] db = new double[mse.length];
    for (int i = 0; i < mse.length; i++) {
      if (Double.isNaN(mse[i])) {
        throw new IllegalArgumentException("image " + i + " contains NaN");
      }
      db[i] = 10 * Math.log10(1 / Math.max(mse[i], MIN_MSE));
    }
    return db;
  }

  /** Mean PSNR over the images of two batches (B, ...) of equal shape. */
  public static double mean(Tensor a, Tensor b) {
    return Arrays.stream(perImage(a, b)).average().orElseThrow();
  }

  /**
   * Mean PSNR over a split processed in batches: {@link #add} each pair of batches, then read
   * {@link #mean()} (the mean over all images, not over batches). Not thread-safe; holds no native
   * memory.
   */
  public static final class Accumulator {
    private double sum;
    private long count;

    /** Adds the per-image PSNRs of one pair of batches. */
    public Accumulator add(Tensor a, Tensor b) {
      for (double v : perImage(a, b)) {
        sum += v;
        count++;
      }
      return this;
    }

    /** Images added so far. */
    public long count() {
      return count;
    }

    /** Mean PSNR (dB) over all images added; throws if none were. */
    public double mean() {
      if (count == 0) {
        throw new IllegalStateException("no images added");
      }
      return sum / count;
    }
  }
}
