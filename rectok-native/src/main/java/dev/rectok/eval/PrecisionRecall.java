package dev.rectok.eval;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Arrays;

/**
 * Improved precision and recall (Kynkäänniemi et al.) as torch-fidelity's {@code
 * prc_features_to_metric}: with k = {@code neighborhood} (3), the radius of each sample is the
 * distance to its k-th nearest neighbour in its own set (itself excluded by taking the (k+1)-th
 * smallest); precision is the fraction of generated samples within some real sample's radius,
 * recall the fraction of real samples within some generated sample's radius, both as float32 means,
 * and {@code f = 2pr / max(1e-5, p + r)}. Distances are computed as {@code torch.cdist}'s
 * matrix-product path does, in float32 ({@code √max(|x|² + |y|² − 2x·y, 1e-30)}), in blocks of rows
 * so memory stays bounded. Stateless and thread-safe.
 */
public final class PrecisionRecall {
  private PrecisionRecall() {}

  /**
   * The three numbers torch-fidelity reports.
   *
   * @param precision fraction of generated samples inside the real manifold (a float32 mean)
   * @param recall fraction of real samples inside the generated manifold (a float32 mean)
   * @param fScore {@code 2pr / max(1e-5, p + r)}
   */
  public record Result(double precision, double recall, double fScore) {}

  private static final int BLOCK = 1024;

  /**
   * Precision and recall of {@code generated} (N₁, D) against {@code real} (N₂, D), float32 on any
   * device; the caller keeps both tensors.
   *
   * @throws IllegalArgumentException for mismatched widths or fewer than k + 1 samples in a set
   */
  public static Result compute(Tensor generated, Tensor real, int neighborhood) {
    if (generated.dim() != 2 || real.dim() != 2 || generated.size(1) != real.size(1)) {
      throw new IllegalArgumentException(
          "precision/recall needs features (N, D) of the same width, got "
              + Arrays.toString(generated.shape())
              + " and "
              + Arrays.toString(real.shape()));
    }
    if (neighborhood < 1) {
      throw new IllegalArgumentException(
          "the neighbourhood k must be at least 1, got " + neighborhood);
    }
    if (generated.size(0) <= neighborhood || real.size(0) <= neighborhood) {
      throw new IllegalArgumentException(
          "precision/recall with k = "
              + neighborhood
              + " needs more than "
              + neighborhood
              + " samples in each set, got "
              + generated.size(0)
              + " and "
              + real.size(0));
    }
    try (Scope s = Scope.open()) {
      Tensor g = generated.to(DType.FLOAT32).contiguous();
      Tensor r = real.to(DType.FLOAT32).contiguous();
      float[] radiusG = kthRadius(g, neighborhood);
      float[] radiusR = kthRadius(r, neighborhood);
      float recall = covered(r, g, radiusG);
      float precision = covered(g, r, radiusR);
      double p = precision;
      double rc = recall;
      return new Result(p, rc, 2 * p * rc / Math.max(1e-5, p + rc));
    }
  }

  // Distances (rows of a) x (rows of b) as torch.cdist's mm path, float32.
  static float[] distances(Tensor a, Tensor b) {
    try (Scope s = Scope.open()) {
      Tensor an = a.pow(2).sum(new long[] {1}, true);
      Tensor bn = b.pow(2).sum(new long[] {1}, true);
      Tensor a2 =
          Tensor.cat(
              new Tensor[] {a.mul(-2.0), an, Tensor.ones(an.shape(), an.dtype(), an.device())}, 1);
      Tensor b2 =
          Tensor.cat(new Tensor[] {b, Tensor.ones(bn.shape(), bn.dtype(), bn.device()), bn}, 1);
      return a2.matmul(b2.transpose(0, 1))
          .clamp(1e-30, Double.POSITIVE_INFINITY)
          .sqrt()
          .toFloatArray();
    }
  }

  private static float[] kthRadius(Tensor x, int k) {
    int n = Math.toIntExact(x.size(0));
    float[] radius = new float[n];
    for (int from = 0; from < n; from += BLOCK) {
      int len = Math.min(BLOCK, n - from);
      try (Scope s = Scope.open()) {
        float[] d = distances(x.narrow(0, from, len), x);
        float[] row = new float[n];
        for (int i = 0; i < len; i++) {
          System.arraycopy(d, i * n, row, 0, n);
          radius[from + i] = kthSmallest(row, k + 1);
        }
      }
    }
    return radius;
  }

  // Fraction (float32 mean) of rows of x within the radius of some row of y.
  private static float covered(Tensor x, Tensor y, float[] radiusY) {
    int n = Math.toIntExact(x.size(0));
    int m = Math.toIntExact(y.size(0));
    long inside = 0;
    for (int from = 0; from < n; from += BLOCK) {
      int len = Math.min(BLOCK, n - from);
      try (Scope s = Scope.open()) {
        float[] d = distances(x.narrow(0, from, len), y);
        for (int i = 0; i < len; i++) {
          for (int j = 0; j < m; j++) {
            if (d[i * m + j] <= radiusY[j]) {
              inside++;
              break;
            }
          }
        }
      }
    }
    return (float) inside / (float) n;
  }

  // The k-th smallest value (1-based), as torch.kthvalue; partially sorts a copy.
  static float kthSmallest(float[] row, int k) {
    float[] best = new float[k];
    Arrays.fill(best, Float.POSITIVE_INFINITY);
    for (float v : row) {
      if (v < best[k - 1]) {
        int i = k - 1;
        while (i > 0 && best[i - 1] > v) {
          best[i] = best[i - 1];
          i--;
        }
        best[i] = v;
      }
    }
    return best[k - 1];
  }
}
